import Foundation
import Synchronization
import Testing

/// The code server's rules (docs/ARCHITECTURE.md, "Erlang's rules"), one test each,
/// every one with real modules built by swiftc through `hot deploy` and
/// loaded by a real node.
@Suite("Code server", .serialized)
struct CodeServerTests {
    // MARK: processes and purge

    @Test("t2: a process in old code blocks the next-but-one load until purged")
    func t2Experiment() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["t2": CodeServerModules.process(version: 1)])

        let pid = try app.spawn("t2:loop", "0", name: "looper")
        try app.deploy("t2", CodeServerModules.process(version: 2))

        var status = try app.status()
        var process = try #require(status.process(pid: pid), "\(status)")
        #expect(process["code"] as? String == "old")
        #expect(process["version"] as? Int == 1)
        #expect(status.currentVersion("t2") == 2)
        #expect(status.old("t2")?["version"] as? Int == 1)
        #expect(status.old("t2")?["processes"] as? Int == 1)

        // v3 would drop v1, which the process still runs: refused (not_purged).
        try app.write("t2", CodeServerModules.process(version: 3))
        let refused = try app.hot(["deploy"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains(pid), "the refusal must name the process: \(refused)")
        #expect(refused.stderr.contains("--purge"), "the refusal must say how to go on: \(refused)")
        status = try app.status()
        #expect(status.currentVersion("t2") == 2, "a refused load changes nothing")
        #expect(status.old("t2")?["version"] as? Int == 1)
        process = try #require(status.process(pid: pid), "the process must still run: \(status)")
        #expect(process["version"] as? Int == 1)
        #expect(try app.call("t2:version") as? Int == 2)

        // With --purge the process in v1 is stopped and v3 loads.
        let purged = try app.hot(["deploy", "--purge"])
        #expect(purged.status == 0, "\(purged)")
        #expect(purged.stdout.contains("t2 v2 -> v3"), "\(purged)")
        status = try app.status()
        #expect(status.process(pid: pid) == nil, "the purged process must be gone: \(status)")
        #expect(status.currentVersion("t2") == 3)
        #expect(status.old("t2")?["version"] as? Int == 2)
        #expect(status.old("t2")?["processes"] as? Int == 0)
        #expect(try app.call("t2:version") as? Int == 3)
        #expect(try app.log().contains("\(pid) (t2 v1) stopped"), "the node log must record the stop")
    }

    @Test("code switch: a process re-enters the current version with its state and no longer blocks loads")
    func codeSwitch() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["t2": CodeServerModules.process(version: 1)])

        let pid = try app.spawn("t2:loop", "0", name: "switcher")
        try app.deploy("t2", CodeServerModules.process(version: 2))
        #expect(try app.status().process(pid: pid)?["code"] as? String == "old")

        try app.send("switcher", "switch")
        try app.expectEventually("\(pid) runs current v2") { status in
            let process = status.process(pid: pid)
            return process?["code"] as? String == "current" && process?["version"] as? Int == 2
        }
        #expect(try app.status().old("t2")?["processes"] as? Int == 0)
        // It answers from v2's code, with the state the switch carried (1).
        try app.send(pid, #"{"ping":"a"}"#)
        try app.expectEventually("an answer from v2 with state 1") { $0.process(named: "a_v2_s1") != nil }
        try app.stop("a_v2_s1")

        // Nothing runs v1 any more: the next load needs no purge, and the
        // process lives on, now in old code.
        try app.deploy("t2", CodeServerModules.process(version: 3))
        var status = try app.status()
        var process = try #require(status.process(pid: pid), "the process must survive the load: \(status)")
        #expect(process["code"] as? String == "old")
        #expect(process["version"] as? Int == 2)
        #expect(status.old("t2")?["processes"] as? Int == 1)

        // And it still takes messages: it switches again, into v3.
        try app.send("switcher", "switch")
        try app.expectEventually("\(pid) runs current v3") { status in
            let process = status.process(pid: pid)
            return process?["code"] as? String == "current" && process?["version"] as? Int == 3
        }
        try app.send(pid, #"{"ping":"b"}"#)
        try app.expectEventually("an answer from v3 with state 2") { $0.process(named: "b_v3_s2") != nil }
        try app.stop("b_v3_s2")
        try app.deploy("t2", CodeServerModules.process(version: 4))
        status = try app.status()
        process = try #require(status.process(pid: pid))
        #expect(process["version"] as? Int == 3)
    }

    @Test("soft purge refuses while a process runs old code, and drops old once it ended")
    func softPurge() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["t2": CodeServerModules.process(version: 1)])

        let pid = try app.spawn("t2:loop", "0")
        try app.deploy("t2", CodeServerModules.process(version: 2))

        let refused = try app.hot(["purge", "t2", "--soft"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains(pid), "the refusal must name the process: \(refused)")
        var status = try app.status()
        #expect(status.old("t2")?["version"] as? Int == 1, "a refused soft purge keeps old")
        #expect(status.process(pid: pid) != nil, "a soft purge stops nobody")

        try app.send(pid, "stop")
        try app.expectEventually("\(pid) ended") { $0.process(pid: pid) == nil }
        let done = try app.hot(["purge", "t2", "--soft"])
        #expect(done.status == 0, "\(done)")
        #expect(done.stdout.contains("purged t2 v1"), "\(done)")
        status = try app.status()
        #expect(status.module("t2")?["old"] is NSNull, "\(status)")
        #expect(status.currentVersion("t2") == 2)
        #expect(try app.call("t2:version") as? Int == 2)
    }

    @Test("a process that throws ends alone: the node, its calls and the other processes go on")
    func crashingProcess() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(
            scratch,
            modules: ["t2": CodeServerModules.process(version: 1), "alpha": CodeServerModules.constant("alpha", version: 1)])
        let nodePid = try app.nodePid()

        let victim = try app.spawn("t2:loop", "0", name: "victim")
        let bystander = try app.spawn("t2:loop", "0", name: "bystander")
        try app.send("victim", "crash")
        try app.expectEventually("\(victim) ended") { $0.process(pid: victim) == nil }

        #expect(Scratch.isAlive(nodePid), "the node must survive a crashing process")
        #expect(try app.call("alpha:v") as? Int == 1)
        #expect(try app.call("t2:version") as? Int == 1)
        #expect(try app.status().process(pid: bystander) != nil)
        // The bystander still takes messages and acts on them.
        try app.send("bystander", #"{"ping":"alive"}"#)
        try app.expectEventually("an answer from the bystander") { $0.process(named: "alive_v1_s0") != nil }
        // The name of the crashed process is free again.
        let again = try app.spawn("t2:loop", "0", name: "victim")
        #expect(again != victim)

        let log = try app.log()
        #expect(log.contains("t2-crashed-on-purpose"), "the node log must carry the error:\n\(log)")
        #expect(log.contains(victim), "the node log must name the process:\n\(log)")
    }

    // MARK: servers

    @Test("a server keeps its state across reloads, migrates it through codeChange, and survives a failing codeChange")
    func counterServer() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["counter": CodeServerModules.counter(version: 1, shape: .count)])

        let server = try app.spawn("counter:counter", name: "counter")
        var reply = try app.callMap("counter:bump")
        reply = try app.callMap("counter:bump")
        #expect(reply["count"] as? Int == 2)
        #expect(reply["version"] as? Int == 1)

        // Five reloads: each call reaches the new version and the count goes on.
        for version in 2...6 {
            try app.deploy("counter", CodeServerModules.counter(version: version, shape: .count))
            reply = try app.callMap("counter:bump")
            #expect(reply["version"] as? Int == version, "\(reply)")
            #expect(reply["count"] as? Int == version + 1, "v\(version): \(reply)")
        }
        var status = try app.status()
        var process = try #require(status.process(pid: server), "\(status)")
        #expect(process["version"] as? Int == 6)
        #expect(process["code"] as? String == "current")
        #expect(status.old("counter")?["processes"] as? Int == 0, "a server never pins old code")

        // The state gains a field; codeChange fills it and keeps the count.
        try app.deploy("counter", CodeServerModules.counter(version: 7, shape: .labelled))
        reply = try app.callMap("counter:get")
        #expect(reply["count"] as? Int == 7, "\(reply)")
        #expect(reply["version"] as? Int == 7, "\(reply)")
        #expect(reply["label"] as? String == "filled from v6", "\(reply)")
        reply = try app.callMap("counter:bump")
        #expect(reply["count"] as? Int == 8, "\(reply)")

        // A codeChange that throws: the deploy fails and says so, and the
        // server answers on from v7 with its state.
        try app.write("counter", CodeServerModules.counter(version: 8, shape: .refusing))
        let failed = try app.hot(["deploy"])
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stderr.contains("codeChange"), "\(failed)")
        #expect(failed.stderr.contains("counter-v8-refuses-state"), "the hook's error must reach the user: \(failed)")
        #expect(failed.stderr.contains(server), "the server must be named: \(failed)")
        reply = try app.callMap("counter:bump")
        #expect(reply["version"] as? Int == 7, "\(reply)")
        #expect(reply["count"] as? Int == 9, "\(reply)")
        #expect(reply["label"] as? String == "filled from v6", "\(reply)")
        // Whether the deploy leaves v8 current or rolls back to v7 is the
        // deploy's policy; the rule here is that the server stays on v7.
        status = try app.status()
        process = try #require(status.process(pid: server), "the server must still run: \(status)")
        #expect(process["version"] as? Int == 7, "\(process)")
        reply = try app.callMap("counter:get")
        #expect(reply["version"] as? Int == 7, "\(reply)")
        #expect(reply["count"] as? Int == 9, "\(reply)")
    }

    // MARK: delete, atomic load, on load, sticky

    @Test("delete makes calls fail with undefined until a new version is loaded")
    func delete() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["alpha": CodeServerModules.constant("alpha", version: 1)])
        #expect(try app.call("alpha:hi") as? String == "alpha v1")

        let deleted = try app.hot(["delete", "alpha"])
        #expect(deleted.status == 0, "\(deleted)")
        let call = try app.hot(["call", "alpha:hi"])
        #expect(call.status == 1, "\(call)")
        #expect(call.stderr.contains("undefined"), "\(call)")
        #expect(call.stderr.contains("alpha"), "\(call)")
        #expect(call.stdout.isEmpty, "\(call)")
        var status = try app.status()
        #expect(status.module("alpha")?["current"] is NSNull, "\(status)")
        #expect(status.old("alpha")?["version"] as? Int == 1)

        try app.deploy("alpha", CodeServerModules.constant("alpha", version: 2))
        #expect(try app.call("alpha:hi") as? String == "alpha v2")
        status = try app.status()
        #expect(status.currentVersion("alpha") == 2)
    }

    @Test("atomic load: when one module's on-load hook throws, no module of the load becomes current")
    func atomicLoad() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(
            scratch,
            modules: ["alpha": CodeServerModules.constant("alpha", version: 1), "beta": CodeServerModules.constant("beta", version: 1)])

        try app.write("alpha", CodeServerModules.constant("alpha", version: 2))
        try app.write("beta", CodeServerModules.constant("beta", version: 2, failingOnLoad: true))
        let failed = try app.hot(["deploy"])
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stderr.contains("on-load"), "\(failed)")
        #expect(failed.stderr.contains("beta-refuses-to-load"), "the hook's error must reach the user: \(failed)")
        var status = try app.status()
        for name in ["alpha", "beta"] {
            #expect(status.currentVersion(name) == 1, "\(name): \(status)")
            #expect(status.module(name)?["old"] is NSNull, "\(name): \(status)")
        }
        #expect(try app.call("alpha:v") as? Int == 1)
        #expect(try app.call("beta:v") as? Int == 1)

        // Once the hook is fixed, both load together.
        try app.write("beta", CodeServerModules.constant("beta", version: 3))
        let loaded = try app.hot(["deploy"])
        #expect(loaded.status == 0, "\(loaded)")
        status = try app.status()
        #expect(status.currentVersion("alpha") == 2, "\(status)")
        #expect(status.currentVersion("beta") == 3, "\(status)")
        #expect(try app.call("alpha:v") as? Int == 2)
        #expect(try app.call("beta:v") as? Int == 3)
    }

    @Test("a sticky module refuses reload unless forced")
    func sticky() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(
            scratch,
            modules: ["kernel": CodeServerModules.constant("kernel", version: 1), "alpha": CodeServerModules.constant("alpha", version: 1)],
            sticky: ["kernel"])
        var status = try app.status()
        #expect(status.module("kernel")?["sticky"] as? Bool == true)
        #expect(status.module("alpha")?["sticky"] as? Bool == false)

        try app.write("kernel", CodeServerModules.constant("kernel", version: 2))
        let refused = try app.hot(["deploy"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("sticky"), "\(refused)")
        #expect(refused.stderr.contains("--force"), "\(refused)")
        #expect(try app.call("kernel:v") as? Int == 1)
        #expect(try app.status().currentVersion("kernel") == 1)

        let forced = try app.hot(["deploy", "--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(forced.stdout.contains("kernel v1 -> v2"), "\(forced)")
        #expect(try app.call("kernel:v") as? Int == 2)
        status = try app.status()
        #expect(status.currentVersion("kernel") == 2)
        #expect(status.module("kernel")?["sticky"] as? Bool == true, "forcing once does not make it unsticky")
    }

    // MARK: external calls, loading modes

    @Test("an external call reaches the callee's current version without reloading the caller")
    func externalCall() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(
            scratch, modules: ["front": CodeServerModules.front(version: 1), "back": CodeServerModules.back(version: 1)])
        #expect(try app.call("front:ask") as? String == "front v1 heard: back v1")

        try app.write("back", CodeServerModules.back(version: 2))
        let deployed = try app.hot(["deploy"])
        #expect(deployed.status == 0, "\(deployed)")
        #expect(deployed.stdout.contains("back v1 -> v2"), "\(deployed)")
        #expect(!deployed.stdout.contains("front v"), "front did not change and must not be reloaded: \(deployed)")

        #expect(try app.call("front:ask") as? String == "front v1 heard: back v2")
        let status = try app.status()
        #expect(status.currentVersion("front") == 1)
        #expect(status.module("front")?["old"] is NSNull)
        #expect(status.currentVersion("back") == 2)
    }

    @Test("interactive mode loads a module built after boot on its first call; embedded mode does not")
    func interactiveAndEmbedded() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["alpha": CodeServerModules.constant("alpha", version: 1)])

        // Interactive (the default of hot start).
        var status = try app.status()
        #expect(status.document["mode"] as? String == "interactive")
        try app.write("late", CodeServerModules.constant("late", version: 1))
        let built = try app.hot(["build", "late"])
        try #require(built.status == 0, "\(built)")
        #expect(try app.status().module("late") == nil, "a build alone loads nothing")
        #expect(try app.call("late:hi") as? String == "late v1")
        status = try app.status()
        #expect(status.currentVersion("late") == 1, "\(status)")

        try app.stopNode()

        // Embedded: only the boot set, loaded at boot.
        let node = try app.startNode(mode: "embedded")
        defer { node.end() }
        status = try app.status()
        #expect(status.document["mode"] as? String == "embedded")
        #expect(status.currentVersion("alpha") == 1)
        #expect(status.currentVersion("late") == 1, "what was built before boot is in the boot set")
        #expect(try app.call("late:hi") as? String == "late v1")

        try app.write("later", CodeServerModules.constant("later", version: 1))
        let builtLater = try app.hot(["build", "later"])
        try #require(builtLater.status == 0, "\(builtLater)")
        let call = try app.hot(["call", "later:hi"])
        #expect(call.status == 1, "\(call)")
        #expect(call.stderr.contains("undefined"), "\(call)")
        #expect(try app.status().module("later") == nil, "an embedded node loads nothing on demand")

        try app.stopNode()
        #expect(node.waitForExit(seconds: 5), "hot stop must end the embedded node")
    }
}

extension CodeServerTests {
    /// A module of async exports, compiled by swiftc: `hello` answers after a
    /// short sleep, `slow` sleeps a minute unless cancelled.
    static func asyncModule(version: Int) -> String {
        """
        import Hot

        let module = HotModule(exports: [
            .function("hello") { (name: String) async throws -> String in
                try await Task.sleep(for: .milliseconds(10))
                return "async v\(version) \\(name)"
            },
            .function("slow") { () async throws -> Int in
                try await Task.sleep(for: .seconds(60))
                return \(version)
            },
        ])
        """
    }

    @Test("async exports: hot call reaches the current version; a call in flight is counted in old code and cancelled by hot purge")
    func asyncExports() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["aio": Self.asyncModule(version: 1)])
        #expect(try app.call("aio:hello", "world") as? String == "async v1 world")

        // A slow call through `hot call`, in flight while v2 is loaded.
        let slow = Mutex<Outcome?>(nil)
        let done = DispatchGroup()
        let project = app
        DispatchQueue.global().async(group: done) {
            let outcome = try? project.hot(["call", "aio:slow"])
            slow.withLock { $0 = outcome }
        }
        try app.expectEventually("one call in flight in v1") { ($0.module("aio")?["current"] as? [String: Any])?["calls"] as? Int == 1 }
        try app.deploy("aio", Self.asyncModule(version: 2))
        #expect(try app.call("aio:hello", "again") as? String == "async v2 again")
        let status = try app.status()
        #expect(status.old("aio")?["calls"] as? Int == 1, "\(status)")
        #expect(try app.hot(["status"]).stdout.contains("old v1 (0 processes, 1 calls in flight)"))

        let purged = try app.hot(["purge", "aio"])
        #expect(purged.status == 0, "\(purged)")
        #expect(purged.stdout.contains("purged aio v1, cancelled 1 call in flight"), "\(purged)")
        #expect(done.wait(timeout: .now() + 10) == .success)
        let call = try #require(slow.withLock { $0 })
        #expect(call.status != 0 && call.stderr.contains("CancellationError"), "\(call)")
        #expect(try app.status().old("aio") == nil)
    }
}

// MARK: - helpers

/// A project under a scratch folder (`app`), its node started by `hot start`
/// with the given modules (the template's `hello` removed), and the few
/// requests the tests repeat.
struct CodeServerProject {
    let scratch: Scratch

    init(_ scratch: Scratch, modules: [String: String], sticky: [String] = []) throws {
        self.scratch = scratch
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        try FileManager.default.removeItem(atPath: scratch.path("app/modules/hello"))
        for (name, source) in modules { try write(name, source) }
        if !sticky.isEmpty {
            let path = "app/hot.json"
            let config = try scratch.read(path)
            let list = sticky.map { "\"\($0)\"" }.joined(separator: ", ")
            let edited = config.replacingOccurrences(of: #""sticky": []"#, with: "\"sticky\": [\(list)]")
            try #require(edited != config, "hot.json has no empty sticky list to fill:\n\(config)")
            try scratch.write(path, edited)
        }
        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
    }

    @discardableResult
    func hot(_ arguments: [String]) throws -> Outcome { try scratch.hot(arguments) }

    /// Writes a module's one source file.
    func write(_ module: String, _ source: String) throws {
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/\(module)"), withIntermediateDirectories: true)
        try scratch.write("app/modules/\(module)/\(module).swift", source)
    }

    /// Writes a new version of a module and deploys it; requires success.
    func deploy(_ module: String, _ source: String) throws {
        try write(module, source)
        let deployed = try hot(["deploy"])
        try #require(deployed.status == 0, "\(deployed)")
        let loaded = deployed.stdout.split(separator: "\n").contains { $0.hasPrefix("app: \(module) ") && $0.contains(" -> v") }
        try #require(loaded, "the node must report loading \(module): \(deployed)")
    }

    /// `hot spawn`; returns the pid it printed.
    func spawn(_ target: String, _ args: String..., name: String? = nil) throws -> String {
        let spawned = try hot(["spawn", target] + args + (name.map { ["--name", $0] } ?? []))
        try #require(spawned.status == 0, "\(spawned)")
        let pid = spawned.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(pid.hasPrefix("<0.") && pid.hasSuffix(".0>"), "\(spawned)")
        return pid
    }

    func send(_ to: String, _ message: String) throws {
        let sent = try hot(["send", to, message])
        try #require(sent.status == 0, "\(sent)")
    }

    /// Sends "stop" to a process and waits until it is gone.
    func stop(_ name: String) throws {
        try send(name, "stop")
        try expectEventually("\(name) ended") { $0.process(named: name) == nil }
    }

    /// `hot call`; requires success and returns the parsed result.
    func call(_ target: String, _ args: String...) throws -> Any {
        let called = try hot(["call", target] + args)
        try #require(called.status == 0, "\(called)")
        return try parseJSON(called.stdout)
    }

    func callMap(_ target: String) throws -> [String: Any] {
        let result = try call(target)
        return try #require(result as? [String: Any], "\(target) returned \(result)")
    }

    func status() throws -> NodeStatus {
        let outcome = try hot(["status", "--json"])
        try #require(outcome.status == 0, "\(outcome)")
        return NodeStatus(document: try #require(try parseJSON(outcome.stdout) as? [String: Any]))
    }

    /// Polls `hot status` until `condition` holds (up to `seconds`); records an issue if it never does.
    func expectEventually(
        _ what: String, seconds: Double = 5, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: (NodeStatus) -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try status()
        while !condition(last) {
            guard Date() < deadline else {
                Issue.record("not within \(seconds) s: \(what)\n\(last.document)", sourceLocation: sourceLocation)
                return
            }
            usleep(20_000)
            last = try status()
        }
    }

    func log() throws -> String { try scratch.read("app/.hot/node.log") }

    func nodePid() throws -> pid_t {
        try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// `hot stop`, and waits until the node's pid is gone.
    func stopNode() throws {
        let pid = try nodePid()
        let stopped = try hot(["stop"])
        try #require(stopped.status == 0, "\(stopped)")
        for _ in 0..<250 where Scratch.isAlive(pid) { usleep(20_000) }
        try #require(!Scratch.isAlive(pid), "hot stop must end the node")
    }

    /// Starts hotnode as `hot start` does (same arguments) plus `--mode`,
    /// and waits until it answers.
    func startNode(mode: String) throws -> ChildNode {
        let root = scratch.path("app")
        let log = root + "/.hot/node.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? output.close() }
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: Binaries.directory + "/hotnode")
        process.arguments = [
            "--name", "app", "--listen", "unix:\(root)/.hot/node.sock", "--cookie-file", "\(root)/.hot/cookie",
            "--state", "\(root)/.hot/node", "--code-path", "\(root)/.hot/build", "--pid-file", "\(root)/.hot/node.pid",
            "--mode", mode,
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let node = ChildNode(process: process)
        for _ in 0..<500 {
            if !process.isRunning { break }
            if FileManager.default.fileExists(atPath: root + "/.hot/node.pid"), try hot(["status"]).status == 0 { return node }
            usleep(20_000)
        }
        node.end()
        Issue.record("hotnode --mode \(mode) did not answer:\n\((try? self.log()) ?? "")")
        throw CancellationError()
    }
}

/// A hotnode this test started itself: ended (SIGTERM, then SIGKILL) and reaped.
struct ChildNode {
    let process: Foundation.Process

    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    func end() {
        if process.isRunning { process.terminate() }
        if !waitForExit(seconds: 2) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// `hot status --json`, read.
struct NodeStatus: CustomStringConvertible {
    let document: [String: Any]

    var description: String { "\(document)" }

    func module(_ name: String) -> [String: Any]? {
        (document["modules"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    func currentVersion(_ name: String) -> Int? {
        (module(name)?["current"] as? [String: Any])?["version"] as? Int
    }

    func old(_ name: String) -> [String: Any]? { module(name)?["old"] as? [String: Any] }

    var processes: [[String: Any]] { document["processes"] as? [[String: Any]] ?? [] }

    func process(pid: String) -> [String: Any]? { processes.first { $0["pid"] as? String == pid } }

    func process(named name: String) -> [String: Any]? { processes.first { $0["name"] as? String == name } }
}
