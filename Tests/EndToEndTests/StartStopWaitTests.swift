import Foundation
import HotPlatform
import Testing

/// `hot start` waits for its node's `ready` line, `hot stop` for the
/// node's and its supervisor's end (docs/ARCHITECTURE.md, "Waiting").
@Suite("Start and stop waits", .serialized)
struct StartStopWaitTests {
    private static func pid(_ scratch: Scratch, _ file: String) throws -> pid_t {
        try #require(pid_t(try scratch.read(file).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// `hot init app` and `hot build` in the scratch folder.
    private static func builtProject(_ scratch: Scratch) throws {
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        let built = try scratch.hot(["build"])
        try #require(built.status == 0, "\(built)")
    }

    /// A project of one module, built, whose on-load hook is `onLoad`.
    private static func project(_ scratch: Scratch, onLoad: String) throws {
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/slow"), withIntermediateDirectories: true)
        try scratch.write(
            "app/modules/slow/slow.swift",
            """
            import Glibc
            import Hot

            let module = HotModule(
                exports: [.function("v", { () -> Int in 1 })],
                onLoad: { \(onLoad) })

            """)
        let built = try scratch.hot(["build"])
        try #require(built.status == 0, "\(built)")
    }

    @Test("a node that boots slowly: hot start returns once it serves, and hot status right after answers")
    func slowBoot() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        // A boot that takes a second.
        try Self.project(scratch, onLoad: "usleep(1_000_000)")

        let begun = ContinuousClock.now
        let started = try scratch.hot(["start", "--mode", "embedded"])
        let took = ContinuousClock.now - begun
        try #require(started.status == 0, "\(started)")
        #expect(started.stdout.hasPrefix("node app started (supervisor pid"), "\(started)")
        #expect(took >= .seconds(1), "the boot's on-load hook alone takes a second: \(took)")

        #expect(FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.pid")), "the pid file is written before the node says it serves")
        let status = try scratch.hot(["status"])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("slow"), "booted before start returned: \(status)")
    }

    @Test("a node that cannot listen: hot start says why at once instead of waiting out its deadline")
    func failedStart() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try Self.builtProject(scratch)

        // A port this test holds: the node's listen there fails.
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(held >= 0)
        defer { Glibc.close(held) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(held, $0, length) == 0 && listen(held, 1) == 0 && getsockname(held, $0, &length) == 0 }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)

        let begun = ContinuousClock.now
        let started = try scratch.hot(["start", "--listen", "tcp://127.0.0.1:\(port)"])
        let took = ContinuousClock.now - begun
        #expect(started.status != 0, "\(started)")
        #expect(started.stderr.contains("cannot listen on tcp://127.0.0.1:\(port)"), "\(started)")
        #expect(took < .seconds(8), "well before the 15 s deadline: \(took)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.pid")), "no node left")
    }

    @Test("hot stop returns once the node and its supervisor are gone, though the node takes a second to exit after its listener closed")
    func stopWaitsForTheProcess() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        // The node exits a second after it stopped serving: its socket's
        // silence says nothing of its end.
        try Self.project(scratch, onLoad: "atexit { _ = usleep(1_000_000) }")
        let started = try scratch.hot(["start", "--mode", "embedded"])
        try #require(started.status == 0, "\(started)")
        let node = try Self.pid(scratch, "app/.hot/node.pid")
        let supervisor = try Self.pid(scratch, "app/.hot/supervisor.pid")
        #expect(Scratch.isRunning(node) && Scratch.isRunning(supervisor))

        let stopped = try scratch.hot(["stop"])
        #expect(stopped.status == 0, "\(stopped)")
        #expect(stopped.stdout.contains("node app stopped"), "\(stopped)")
        // Reaped by its supervisor before that exited: no such process at all.
        #expect(kill(node, 0) == -1 && errno == ESRCH, "the node is gone when hot stop returns")
        #expect(!Scratch.isRunning(supervisor), "the supervisor is gone when hot stop returns")
    }

    @Test("a server that embeds a node writes the ready line once its node serves, when its starter names HOT_READY_FD")
    func embeddedHostTellsItsStarter() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try Self.builtProject(scratch)

        let channel = try ReadyNotice.Channel()
        // Its standard input a socket this test holds: closed, the host ends.
        let host = try Subprocess.spawn(
            Binaries.directory + "/EmbeddedHostFixture", ["--project", scratch.path("app")], output: .file(scratch.path("host.log")),
            input: .socket,
            environment: currentEnvironment() + ["\(ReadyNotice.variable)=\(Subprocess.passedDescriptor)"],
            passing: channel.writeEnd)
        defer {
            host.shutdownInput()
            if host.waitCapturing(limit: 0, timeout: .seconds(10)).timedOut { Issue.record("the host did not end with its input") }
        }
        let readEnd = channel.keepingReadEnd()
        let end = try? Descriptor.process(host.pid)
        let outcome = ReadyNotice.wait(on: readEnd, orEndOf: end, until: .now + .seconds(30))
        #expect(outcome == .ready, "\((try? scratch.read("host.log")) ?? "")")
        let status = try scratch.hot(["status"])
        #expect(status.status == 0, "\(status)")
    }
}
