#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire
import Testing

@testable import HotNode

/// The code server's rules about old code that processes still run (Erlang's
/// not_purged, purge and soft_purge), with real processes (threads of this
/// test process) pinned to versions made in Swift.
@Suite("Code server: old code and processes")
struct PurgeRuleTests {
    /// A node with calc v1 loaded, a process waiting in v1, and v2 loaded:
    /// v1 is old and runs in the process.
    private func oldCodeRunning(_ t: TestNode, extra: [Export] = [], function: String = "wait") throws -> Pid {
        _ = try t.codeServer.load([t.loader.add("calc", 1, extra: extra)])
        let pid = try t.spawn("calc", function)
        _ = try t.codeServer.load([t.loader.add("calc", 2, key: FakeLoader.key("b"))])
        #expect(t.versions("calc") == [2, 1])
        return pid
    }

    @Test("a load that would drop old code a process runs is refused, naming the process, and changes nothing")
    func notPurged() throws {
        let t = try TestNode()
        defer { t.close() }
        let pid = try oldCodeRunning(t)
        let v3 = t.loader.add("calc", 3, key: FakeLoader.key("c"))
        #expect(throws: LoadError.notPurged(module: "calc", pids: [pid.description])) { try t.codeServer.load([v3]) }
        #expect(t.versions("calc") == [2, 1])
        #expect(t.isAlive(pid))
        #expect(try t.calledVersion("calc") == 2)
    }

    @Test("not_purged in one module keeps every module of the load out")
    func notPurgedIsAllOrNothing() throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try oldCodeRunning(t)
        let other = t.loader.add("other", 1)
        #expect(throws: LoadError.self) { try t.codeServer.load([other, t.loader.add("calc", 3, key: FakeLoader.key("c"))]) }
        #expect(t.versions("other") == [nil, nil])
    }

    @Test("a load with purge stops the processes in old code first, and says which")
    func loadWithPurge() throws {
        let t = try TestNode()
        defer { t.close() }
        let pid = try oldCodeRunning(t)
        let results = try t.codeServer.load([t.loader.add("calc", 3, key: FakeLoader.key("c"))], purge: true)
        #expect(results == [CodeServer.LoadResult(module: "calc", from: 2, to: 3, work: StoppedWork(stopped: [pid], stubborn: []))])
        #expect(!t.isAlive(pid))
        #expect(t.versions("calc") == [3, 2])
    }

    @Test("purge stops the processes in old code and drops it, as soon as they ended")
    func purge() throws {
        let t = try TestNode(purgeTimeout: 30)
        defer { t.close() }
        #expect(throws: LoadError.noFile("calc")) { try t.codeServer.purge("calc") }
        // It takes a moment to unwind, so the purge is already waiting when it ends.
        let slow = Export(name: "slow", arity: 0) { _ in
            do { _ = try Hot.Process.receive() } catch {
                usleep(100_000)
                throw error
            }
            return .null
        }
        let pid = try oldCodeRunning(t, extra: [slow], function: "slow")
        let started = monotonic()
        let result = try t.codeServer.purge("calc")
        #expect(result.version == 1 && result.work.stopped == [pid] && result.work.stubborn.isEmpty)
        #expect(monotonic() - started < 10, "the end of the process wakes the purge; it does not wait out its timeout")
        #expect(!t.isAlive(pid))
        #expect(t.versions("calc") == [2, nil])
        #expect(try t.codeServer.purge("calc").version == nil, "nothing old left to purge")
    }

    @Test("purge reports a process that does not stop in time as stubborn")
    func stubbornProcess() throws {
        let t = try TestNode(purgeTimeout: 0.2)
        defer { t.close() }
        let gate = Gate()
        defer { gate.open() }
        let deaf = Export(name: "deaf", arity: 0) { _ in
            gate.pass()
            return .null
        }
        let pid = try oldCodeRunning(t, extra: [deaf], function: "deaf")
        let started = monotonic()
        let result = try t.codeServer.purge("calc")
        #expect(result.work.stubborn == [pid] && result.work.stopped.isEmpty)
        #expect(monotonic() - started >= 0.2, "the purge waits its timeout for the process")
        #expect(t.isAlive(pid))
        gate.open()
        #expect(t.waitForEnd(pid))
    }

    @Test("soft purge refuses while a process runs old code, naming it, and drops old once it ended")
    func softPurge() throws {
        let t = try TestNode()
        defer { t.close() }
        #expect(throws: LoadError.noFile("calc")) { try t.codeServer.softPurge("calc") }
        let pid = try oldCodeRunning(t)
        #expect(throws: LoadError.notPurged(module: "calc", pids: [pid.description])) { try t.codeServer.softPurge("calc") }
        #expect(t.versions("calc") == [2, 1])
        #expect(t.isAlive(pid), "soft purge stops nothing")

        t.poke(pid)
        #expect(t.waitForEnd(pid))
        #expect(try t.codeServer.softPurge("calc") == 1)
        #expect(t.versions("calc") == [2, nil])
        #expect(try t.codeServer.softPurge("calc") == nil)
    }

    @Test("delete is refused while a process runs the old code it would drop")
    func deleteWithOldCodeRunning() throws {
        let t = try TestNode()
        defer { t.close() }
        let pid = try oldCodeRunning(t)
        #expect(throws: LoadError.notPurged(module: "calc", pids: [pid.description])) { try t.codeServer.delete("calc") }
        #expect(try t.calledVersion("calc") == 2)
    }

    @Test("a process runs the version it was spawned in, and counts for it alone")
    func processPinsItsVersion() throws {
        let t = try TestNode()
        defer { t.close() }
        let pid = try oldCodeRunning(t)
        let (current, old) = t.codeServer.versions("calc")
        #expect(t.node.processes.pinned(to: try #require(old)).map(\.pid) == [pid])
        #expect(t.node.processes.pinned(to: try #require(current)).isEmpty)
    }
}
