#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Testing

@testable import HotNode

/// A server's `start` that runs past the deadline leaves nothing behind:
/// the caller gets the timeout, and the server is neither registered nor
/// serving once its `start` returns.
@Suite("Servers: a start past its deadline")
struct ServerStartTests {
    /// A server whose `start` waits for `SlowStart.gate`.
    enum SlowStart: Server {
        nonisolated(unsafe) static var gate = Gate()
        static func start(_ args: [Term]) throws -> Int {
            gate.pass()
            return 0
        }
        static func handleCall(_ request: Term, state: inout Int) throws -> Term { .int(state) }
    }

    @Test("after the timeout the server is not registered, and once its start returns it does not run")
    func timedOutStartLeavesNothing() throws {
        let t = try TestNode()
        defer { t.close() }
        let gate = Gate()
        SlowStart.gate = gate
        let path = t.loader.add("slow", 1, servers: [ServerSpec.server("counter", SlowStart.self)])
        _ = try t.codeServer.load([path])
        #expect(throws: ProcessError.timeout(after: .milliseconds(300))) {
            try t.node.kernel.startServer("slow", "counter", [], name: "counter", timeout: .milliseconds(300))
        }
        #expect(t.node.kernel.whereis("counter") == nil, "the name is free again")
        #expect(t.node.processes.all().isEmpty, "no process in the table")
        gate.open()
        // Its start has returned: the thread ends rather than serving.
        let deadline = ContinuousClock.now + .seconds(5)
        while t.node.processes.all().isEmpty == false, ContinuousClock.now < deadline { pause(for: .milliseconds(10)) }
        pause(for: .milliseconds(200))
        #expect(t.node.processes.all().isEmpty)
        #expect(t.node.kernel.whereis("counter") == nil)
        // The name can be taken by a server that starts in time.
        SlowStart.gate = Gate()
        SlowStart.gate.open()
        let pid = try t.node.kernel.startServer("slow", "counter", [], name: "counter", timeout: .seconds(5))
        #expect(t.node.kernel.whereis("counter") == pid)
    }
}
