#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Synchronization
import Testing

@testable import HotNode

/// A process or server whose thread cannot be started (`pthread_create`
/// failing with EAGAIN in a container with fewer threads than the node's
/// limits) is refused with `systemLimit`, leaves nothing in the process
/// table, and the node goes on.
@Suite("Processes: no thread to be had")
struct ThreadStartFailureTests {
    /// A server that answers its state.
    enum Idle: Server {
        static func start(_ args: [Term]) throws -> Int { 0 }
        static func handleCall(_ request: Term, state: inout Int) throws -> Term { .int(state) }
    }

    /// How many threads were asked for.
    final class Attempts: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test("a spawn and a server start throw systemLimit, the table stays empty, and a later spawn works")
    func failedThreadStartIsRefused() throws {
        let t = try TestNode()
        defer { t.close() }
        let path = t.loader.add("worker", 1, servers: [ServerSpec.server("idle", Idle.self)])
        _ = try t.codeServer.load([path])
        let kernel = t.node.kernel
        let attempts = Attempts()
        let real = kernel.replaceThreadStarter { _ in
            attempts.count.add(1, ordering: .relaxed)
            throw SystemError("pthread_create", errno: .resourceTemporarilyUnavailable)
        }
        defer { kernel.replaceThreadStarter(real) }

        do {
            _ = try kernel.spawn("worker", "wait", [], name: "waiter")
            Issue.record("the spawn succeeded without a thread")
        } catch ProcessError.systemLimit(let text) {
            #expect(text.contains("no thread"), "\(text)")
        }
        do {
            _ = try kernel.startServer("worker", "idle", [], name: "idler", timeout: .seconds(5))
            Issue.record("the server started without a thread")
        } catch ProcessError.systemLimit(let text) {
            #expect(text.contains("no thread"), "\(text)")
        }
        #expect(attempts.count.load(ordering: .relaxed) == 2, "each start asked for its thread once")
        #expect(t.node.processes.all().isEmpty, "no process left in the table")
        #expect(kernel.whereis("waiter") == nil && kernel.whereis("idler") == nil, "the names are free again")

        // Threads are to be had again: the node goes on, and the names can be taken.
        kernel.replaceThreadStarter(real)
        let pid = try kernel.spawn("worker", "wait", [], name: "waiter")
        #expect(kernel.whereis("waiter") == pid)
        let server = try kernel.startServer("worker", "idle", [], name: "idler", timeout: .seconds(5))
        #expect(try kernel.serverCall(server, .null, timeout: .seconds(5)) == .int(0))
        #expect(t.node.processes.all().count == 2)
    }
}
