import Foundation
import HotDeploy
import HotWire
import Synchronization
import Testing

/// A server that embeds a node (`NodeHost`): a real executable linked with
/// HotNode (`Tests/Fixtures/EmbeddedHost`), driven by the real `hot` over
/// the project's own files, stopped without ending the process.
@Suite("Embedded node", .serialized)
struct EmbeddingTests {
    @Test("an embedded node serves hot status, call and deploy on the project's files; hot stop stops it and the host lives on")
    func servesAndStopsByHotStop() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)
        let host = try EmbeddedHost.start(project: app, in: scratch.root)
        defer { host.end() }

        let status = try scratch.hot(["status", "--json"])
        try #require(status.status == 0, "\(status)")
        let document = try #require(try parseJSON(status.stdout) as? [String: Any])
        #expect(document["node"] as? String == "app", "named like the project: \(status.stdout)")
        #expect(document["pid"] as? Int == Int(host.pid), "the node is the host process: \(status.stdout)")
        #expect(try scratch.hot(["call", "hello:greet", "x"]).stdout == "\"Hello, x!\"\n")

        // A deploy trial-loads v2 in a child of the host's executable, which
        // learns from HOT_TRIAL_LOAD alone what to do: given no arguments, it
        // would otherwise stop at its usage line and the trial would fail.
        try scratch.write("app/modules/hello/hello.swift", Self.hello(greeting: "Hi"))
        let deployed = try scratch.hot(["deploy"])
        try #require(deployed.status == 0, "\(deployed)")
        #expect(deployed.stdout.contains("hello v1 -> v2"), "\(deployed)")
        #expect(try scratch.hot(["call", "hello:greet", "x"]).stdout == "\"Hi, x!\"\n")

        let open = try NodeClient(address: .unix(path: app + "/.hot/node.sock"), cookieFile: app + "/.hot/cookie")
        let stopped = try scratch.hot(["stop"])
        #expect(stopped.status == 0, "\(stopped)")
        try host.expectStoppedAndAlive(project: app)
        #expect(throws: (any Error).self, "a connection open at the stop must be shut down") { try open.request(.ping) }
        #expect(host.finish() == 0, "the host ends on its own, with status 0: \(host.output)")
    }

    @Test("a host that stops its node itself (a graceful shutdown) removes socket and pid file and lives on")
    func stopsFromInside() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)
        let host = try EmbeddedHost.start(project: app, in: scratch.root)
        defer { host.end() }
        #expect(try scratch.hot(["call", "hello:greet", "x"]).stdout == "\"Hello, x!\"\n")

        host.send("stop")
        try host.expectStoppedAndAlive(project: app)
        let call = try scratch.hot(["call", "hello:greet", "x"])
        #expect(call.status == 3, "the stopped node is out of reach: \(call)")
        #expect(host.finish() == 0, "the host ends on its own, with status 0: \(host.output)")
    }

    @Test("the node's stop kills and reaps its spare trial child, while the host lives on")
    func stopReapsTheSpare() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)
        let host = try EmbeddedHost.start(project: app, in: scratch.root)
        defer { host.end() }
        let spare = try TrialSpareTests.spare(of: host.pid)

        host.send("stop")
        try host.expectStoppedAndAlive(project: app)
        let left = TrialSpareTests.children(of: host.pid)
        #expect(left.isEmpty, "the stopped node left children (a zombie is one not reaped): \(left)")
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(spare)"), "the spare \(spare) must be killed and reaped")
        #expect(host.finish() == 0, "the host ends on its own, with status 0: \(host.output)")
    }

    @Test("a trial child is told by HOT_TRIAL_LOAD alone, in a host executable and in hotnode")
    func trialChildByEnvironment() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)
        let object = try #require(
            try FileManager.default.contentsOfDirectory(atPath: app + "/.hot/build/hello").first { $0.hasSuffix(".so") })
        let path = app + "/.hot/build/hello/" + object
        for executable in [Binaries.directory + "/EmbeddedHostFixture", Binaries.directory + "/hotnode"] {
            let passed = try scratch.run(executable, [], in: scratch.root, environment: ["HOT_TRIAL_LOAD": path])
            #expect(passed.status == 0, "\(executable): \(passed)")
            #expect(passed.stdout.contains("ok hello v1"), "\(executable): \(passed)")
            let refused = try scratch.run(executable, [], in: scratch.root, environment: ["HOT_TRIAL_LOAD": scratch.root + "/none.so"])
            #expect(refused.status == 1, "\(executable): \(refused)")
            #expect(refused.stderr.contains("hot-trial-verdict noFile"), "\(executable): \(refused)")
        }
    }

    @Test("a host linked without -Xlinker --export-dynamic fails at start with one line that names the flag")
    func missingLinkerFlag() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let ran = try scratch.run(Binaries.directory + "/UnexportedHostFixture", [], in: scratch.root)
        #expect(ran.status == 1, "\(ran)")
        #expect(ran.stdout.isEmpty, "\(ran)")
        let lines = ran.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(ran)")
        #expect(ran.stderr.contains("link it with -Xlinker --export-dynamic"), "\(ran)")
    }

    @Test("a deploy whose version lacks an export a live handle calls, or has it with another type, is refused at stage in one line; the node keeps its version")
    func typedHandlesRefuseUnfitDeploys() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)
        let host = try EmbeddedHost.start(project: app, in: scratch.root)
        defer { host.end() }
        host.send("handle hello greet")
        try #require(host.waitFor("handle hello:greet", seconds: 10), "\(host.output)")

        let versions: [(source: String, refusal: String)] = [
            ("func greet(_ name: String) -> Int { name.count }",
             "export 'greet' is (String) throws -> Int, the host calls it as (String) throws -> String; the node keeps v1"),
            ("func hello(_ name: String) -> String { name }",
             "no export 'greet', which the host calls as (String) throws -> String; the node keeps v1"),
        ]
        for (body, refusal) in versions {
            let name = body.contains("greet") ? "greet" : "hello"
            try scratch.write(
                "app/modules/hello/hello.swift", "import Hot\n\nlet module = HotModule(exports: [.function(\"\(name)\", \(name))])\n\n\(body)\n")
            let deployed = try scratch.hot(["deploy"])
            #expect(deployed.status != 0, "\(deployed)")
            let lines = deployed.stderr.split(separator: "\n").filter { $0.contains(refusal) }
            #expect(lines.count == 1, "one line names the export, both types and the version kept: \(deployed)")
            #expect(!deployed.stdout.contains("v1 ->"), "\(deployed)")
            host.send("call hello greet x")
            #expect(host.waitFor("called Hello, x!", seconds: 10), "v1 still answers through the handle: \(host.output)")
        }
        // What the stage's trial child said of v2: its exports' types, in the
        // host's own words, which the node compared with its handle's.
        let v2 = try #require(
            try FileManager.default.contentsOfDirectory(atPath: app + "/.hot/build/hello").first { $0.hasPrefix("hello.v2-") && $0.hasSuffix(".so") })
        let trial = try scratch.run(
            Binaries.directory + "/EmbeddedHostFixture", [], in: scratch.root, environment: ["HOT_TRIAL_LOAD": app + "/.hot/build/hello/" + v2])
        #expect(trial.stdout.contains("hot-trial-export greet\t@Sendable (Swift.String) throws -> Swift.Int\t(String) throws -> Int\n"), "\(trial)")

        let status = try scratch.hot(["status", "--json"])
        let modules = try #require(try parseJSON(status.stdout) as? [String: Any])["modules"] as? [[String: Any]]
        let current = try #require(modules?.first?["current"] as? [String: Any], "\(status)")
        #expect(current["version"] as? Int == 1, "the node still runs v1: \(status)")

        // The same type as the handle's: the trial child and the host name it alike, and the deploy goes through.
        try scratch.write("app/modules/hello/hello.swift", Self.hello(greeting: "Hi"))
        let fits = try scratch.hot(["deploy"])
        try #require(fits.status == 0, "\(fits)")
        host.send("call hello greet y")
        #expect(host.waitFor("called Hi, y!", seconds: 10), "\(host.output)")

        // A handle that cannot call its export logs why, at error level.
        host.send("handle hello missing")
        host.send("call hello missing z")
        #expect(host.waitFor("failed undefined: 'hello' exports no function 'missing'", seconds: 10), "\(host.output)")
        #expect(host.output.contains("error") && host.output.contains("a call through the handle on hello:missing failed"), "\(host.output)")
    }

    /// `hot init app` and `hot build`: a project whose hello module is built, with no node.
    static func project(_ scratch: Scratch) throws -> String {
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        try scratch.write("app/modules/hello/hello.swift", hello(greeting: "Hello"))
        let built = try scratch.hot(["build"])
        try #require(built.status == 0, "\(built)")
        return scratch.path("app")
    }

    static func hello(greeting: String) -> String {
        """
        import Hot

        let module = HotModule(exports: [.function("greet", greet)])

        func greet(_ name: String) -> String { "\(greeting), \\(name)!" }

        """
    }
}

/// The fixture host, started by a test with its stdin and stdout on pipes;
/// `end()` kills and reaps it whatever the test did.
final class EmbeddedHost {
    let process: Foundation.Process
    private let input: FileHandle
    private let collected = Collected()

    var pid: pid_t { process.processIdentifier }
    var output: String { collected.text.withLock { $0 } }

    /// What the host wrote so far, shared with the thread that reads it.
    private final class Collected: Sendable {
        let text = Mutex("")
    }

    private init(process: Foundation.Process, input: FileHandle, output: FileHandle) {
        self.process = process
        self.input = input
        let collected = self.collected
        Thread.detachNewThread {
            while case let data = output.availableData, !data.isEmpty {
                collected.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
    }

    /// Starts the fixture for the project in `project`, from `folder`, and waits for "ready".
    static func start(project: String, in folder: String, executable: String = "EmbeddedHostFixture") throws -> EmbeddedHost {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: Binaries.directory + "/" + executable)
        process.arguments = ["--project", project]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        let host = EmbeddedHost(process: process, input: stdin.fileHandleForWriting, output: stdout.fileHandleForReading)
        guard host.waitFor("ready", seconds: 30) else {
            host.end()
            Issue.record("the embedded host did not get ready: \(host.output)")
            throw CancellationError()
        }
        return host
    }

    /// Waits until the host has written a line starting with `prefix`.
    func waitFor(_ prefix: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.split(separator: "\n").contains(where: { $0.hasPrefix(prefix) }) { return true }
            if !process.isRunning { return false }
            usleep(20_000)
        }
        return false
    }

    func send(_ line: String) {
        input.write(Data((line + "\n").utf8))
    }

    /// The node reported its stop, its socket and pid file are gone, and the host still runs.
    func expectStoppedAndAlive(project: String) throws {
        try #require(waitFor("node stopped", seconds: 10), "the node must report its stop: \(output)")
        #expect(!FileManager.default.fileExists(atPath: project + "/.hot/node.sock"), "the socket file must be removed")
        #expect(!FileManager.default.fileExists(atPath: project + "/.hot/node.pid"), "the pid file must be removed")
        usleep(200_000)
        #expect(process.isRunning, "the host must not exit with its node: \(output)")
    }

    /// Closes the host's stdin and waits for its exit status.
    func finish() -> Int32 {
        try? input.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { return -1 }
        return process.terminationStatus
    }

    /// Kills the host if it still runs, and reaps it.
    func end() {
        try? input.close()
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}
