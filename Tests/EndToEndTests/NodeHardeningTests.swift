import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// Modules that attack the node from inside a load: a constructor that never
/// returns, one that writes without end, and an on-load hook that kills only
/// the real node. Each test runs its own node under `hot start`'s supervisor.
@Suite("Node hardening", .serialized)
struct NodeHardeningTests {
    /// A project with `hello` v1, its node started by `hot start`.
    private static func startNode(_ scratch: Scratch) throws {
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
    }

    private static func nodePid(_ scratch: Scratch) throws -> pid_t {
        try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    private static func client(_ scratch: Scratch) throws -> NodeClient {
        try NodeClient(address: .unix(path: scratch.path("app/.hot/node.sock")), cookieFile: scratch.path("app/.hot/cookie"))
    }

    /// An authenticated raw connection whose reads give up after `seconds`,
    /// so that a load that never answers fails the test instead of hanging it.
    private static func raw(_ scratch: Scratch, seconds: Int) throws -> RawClient {
        let client = try RawClient(path: scratch.path("app/.hot/node.sock"), timeoutMilliseconds: seconds * 1000)
        try client.handshake(cookie: Cookie.read(path: scratch.path("app/.hot/cookie")))
        return client
    }

    /// The node's resident memory in KiB (/proc/PID/status VmRSS).
    private static func residentKiB(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    private static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    @Test("a constructor that never returns: its load is refused at the trial deadline, another client's load is not held up, the node answers")
    func constructorNeverReturns() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try Self.startNode(scratch)
        let hang = try ObjectBuilder.versionOne(in: scratch, "hang", """
            import Glibc
            import Hot

            let module: HotModule = { () -> HotModule in
                while true { sleep(1) }
            }()

            """)
        let quick = try ObjectBuilder.versionOne(in: scratch, "quick", "import Hot\n\nlet module = HotModule(exports: [.function(\"v\", { () -> Int in 1 })])\n")
        try Self.client(scratch).stage(path: hang.path, fileName: hang.file)
        try Self.client(scratch).stage(path: quick.path, fileName: quick.file)

        let socket = scratch.path("app/.hot/node.sock")
        let cookie = try Cookie.read(path: scratch.path("app/.hot/cookie"))
        let answer = Mutex<(response: String, code: ErrorCode?, seconds: Double)?>(nil)
        let started = ContinuousClock.now
        let hangFile = hang.file
        let thread = Thread {
            var result: (String, ErrorCode?)
            do {
                let hung = try RawClient(path: socket, timeoutMilliseconds: 40_000)
                try hung.handshake(cookie: cookie)
                switch try hung.request(.load(files: [hangFile], purge: false, force: false)) {
                case .error(let code, let message): result = (message, code)
                case .ok(let value): result = ("loaded: \(value)", nil)
                }
            } catch {
                result = ("no answer: \(error)", nil)
            }
            answer.withLock { $0 = (result.0, result.1, seconds(since: started)) }
        }
        thread.start()
        // While the hanging trial runs, another client loads and calls.
        usleep(1_000_000)
        let otherStart = ContinuousClock.now
        let loaded = try Self.client(scratch).request(.load(files: [quick.file], purge: false, force: false))
        let otherSeconds = seconds(since: otherStart)
        #expect(loaded.modules.map(\.module) == ["quick"])
        #expect(otherSeconds < 5, "another client's load waited \(otherSeconds) s behind the hanging trial")
        let call = try scratch.hot(["call", "hello:greet", "x"])
        #expect(call.status == 0 && call.stdout == "\"Hello, x!\"\n", "\(call)")

        while answer.withLock({ $0 }) == nil && seconds(since: started) < 45 { usleep(50_000) }
        let (message, refusal, waited) = try #require(answer.withLock { $0 }, "the load never answered")
        print("hanging constructor: refused after \(waited) s; the other load took \(otherSeconds) s")
        let code = try #require(refusal, "the hanging load was not refused: \(message)")
        #expect(code == .badFile, "\(message)")
        #expect(message.contains("did not finish in 10 s") && message.contains(hang.file), "\(message)")
        #expect(waited > 9 && waited < 20, "refused after \(waited) s; the deadline is 10 s")
        #expect(try scratch.hot(["call", "quick:v"]).stdout == "1\n")
    }

    @Test("a constructor that writes 64 MiB to stderr: refused with its output cut; the node's memory, the response frame and its log stay small")
    func constructorFloodsStderr() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try Self.startNode(scratch)
        let flood = try ObjectBuilder.versionOne(in: scratch, "flood", """
            import Glibc
            import Hot

            let module: HotModule = { () -> HotModule in
                let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
                for _ in 0..<64 { _ = chunk.withUnsafeBytes { write(2, $0.baseAddress, $0.count) } }
                exit(3)
            }()

            """)
        try Self.client(scratch).stage(path: flood.path, fileName: flood.file)
        let pid = try Self.nodePid(scratch)
        let log = scratch.path("app/.hot/node.log")
        let rssBefore = try Self.residentKiB(pid)
        let logBefore = Self.fileSize(log)

        let client = try Self.raw(scratch, seconds: 30)
        try client.write(client.sealed(.load(files: [flood.file], purge: false, force: false)))
        let (frame, _) = try client.receiveFrame()
        let response = try Response(term: TermCodec.decode(frame.payload))

        let rssAfter = try Self.residentKiB(pid)
        let logGrowth = Self.fileSize(log) - logBefore
        print("stderr flood: node RSS \(rssBefore) KiB -> \(rssAfter) KiB, response frame \(frame.payload.count) bytes, log +\(logGrowth) bytes")
        guard case .error(let code, let message) = response else {
            Issue.record("the flooding module was loaded: \(response)")
            return
        }
        #expect(code == .badFile, "\(message.prefix(300))")
        #expect(message.contains("cut at 64 KiB"), "the refusal must say the output was cut: \(message.prefix(300))")
        #expect(frame.payload.count < 256 << 10, "response frame of \(frame.payload.count) bytes (the limit is 4 MiB)")
        #expect(rssAfter - rssBefore < 32 << 10, "the node grew from \(rssBefore) to \(rssAfter) KiB")
        #expect(logGrowth < 512 << 10, "node.log grew by \(logGrowth) bytes")
        #expect(Scratch.isAlive(pid))
        let call = try scratch.hot(["call", "hello:greet", "x"])
        #expect(call.status == 0, "\(call)")
    }

    @Test("an on-load hook that kills only the real node: deploy says so, the node comes back on its permanent set and refuses that build until --force")
    func onLoadKillsTheNode() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try Self.startNode(scratch)
        let first = try Self.nodePid(scratch)
        // The trial child has HOT_TRIAL_LOAD in its environment: it passes; the node aborts.
        try scratch.write("app/modules/hello/hello.swift", """
            import Glibc
            import Hot

            let module = HotModule(
                exports: [.function("greet", greet)],
                onLoad: { if getenv("HOT_TRIAL_LOAD") == nil { abort() } })

            func greet(_ name: String) -> String { "Hello v2, \\(name)!" }

            """)

        /// Waits until a node other than `previous` answers; its pid.
        func restarted(after previous: pid_t) throws -> pid_t {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if let pid = try? Self.nodePid(scratch), pid != previous, (try? Self.client(scratch)) != nil { return pid }
                usleep(50_000)
            }
            throw POSIXError(.ETIMEDOUT)
        }

        let deployed = try scratch.hot(["deploy"])
        #expect(deployed.status != 0, "\(deployed)")
        #expect(deployed.stderr.contains("the node died while loading hello v2"), "\(deployed)")
        let second = try restarted(after: first)
        #expect(!Scratch.isAlive(first))
        let call = try scratch.hot(["call", "hello:greet", "x"])
        #expect(call.stdout == "\"Hello, x!\"\n", "the restarted node must run its permanent hello v1: \(call)")

        let status = try Self.client(scratch).request(.status)
        let refused = try #require(status.refused, "status must list the refused build")
        #expect(refused.map(\.module) == ["hello"] && refused.map(\.version) == [2], "\(refused)")
        #expect(status.modules.first { $0.name == "hello" }?.current?.version == 1)
        let text = try scratch.hot(["status"])
        #expect(text.stdout.contains("refused: hello v2"), "\(text)")
        let json = try scratch.hot(["status", "--json"])
        #expect(json.stdout.contains("\"refused\""), "\(json)")

        // The same build again: refused by name, and the node lives.
        let again = try scratch.hot(["deploy"])
        #expect(again.status != 0, "\(again)")
        #expect(again.stderr.contains("the node died while loading hello v2") && again.stderr.contains("--force"), "\(again)")
        let stillSecond = try Self.nodePid(scratch)
        #expect(Scratch.isAlive(second) && stillSecond == second, "a refused load must not reach the node's code")

        // --force tries again: the node dies again and comes back again.
        let forced = try scratch.hot(["deploy", "--force"])
        #expect(forced.status != 0, "\(forced)")
        #expect(forced.stderr.contains("the node died while loading hello v2"), "\(forced)")
        _ = try restarted(after: second)
        #expect(try scratch.hot(["call", "hello:greet", "x"]).stdout == "\"Hello, x!\"\n")
    }
}
