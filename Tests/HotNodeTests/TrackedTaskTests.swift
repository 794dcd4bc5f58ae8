#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Synchronization
import Testing

@testable import HotNode

/// Tracked tasks (`Tasks.start`) as the code server's rules see them: work
/// of the version that started it, like a process (docs/ARCHITECTURE.md,
/// "Tracked tasks"), and kept state as the code server keeps it. The tasks
/// are started through the node's kernel with the call site a version's
/// code would pass, since versions made in Swift are not compiled as
/// `<module>_v<N>`. A purge, a load with purge and a wait for tasks block
/// their thread, so they run off the cooperative pool (`offPool`), whose
/// threads the tasks need to end.
@Suite("Code server: tracked tasks and kept state")
struct TrackedTaskTests {
    /// Starts a task of `module` v`version` that waits, cancellably, until cancelled (or an hour passes: a busy
    /// test process may resume a test long after it let the task start).
    @discardableResult
    private func startWaiting(
        _ t: TestNode, _ label: String, _ module: String, _ version: Int, lifetime: TaskLifetime = .untilPurged
    ) throws -> UInt64 {
        try t.node.kernel.startTask(label, lifetime: lifetime, site: CallSite(fileID: "\(module)_v\(version)/\(module).swift", line: 12)) {
            try await Task.sleep(for: .seconds(3600))
        }
    }

    private func load(_ t: TestNode, _ module: String, _ version: Int, purge: Bool = false) throws -> [CodeServer.LoadResult] {
        try t.codeServer.load([t.loader.add(module, version, key: FakeLoader.key(Character(String(version % 10))))], purge: purge)
    }

    @Test("a task keeps its version old with work: a load, soft purge and delete that would drop it are refused, naming it")
    func notPurged() throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try load(t, "ticker", 1)
        let id = try startWaiting(t, "ticker", "ticker", 1)
        _ = try load(t, "ticker", 2)
        let status = t.node.statusDocument()
        #expect(status.tasks?.map { "\($0.id) \($0.label) v\($0.version) \($0.code) \($0.file):\($0.line)" } == ["\(id) ticker v1 old ticker.swift:12"])
        #expect(status.modules.first?.old?.tasks == 1 && status.modules.first?.current?.tasks == 0)
        let named = LoadError.notPurged(module: "ticker", pids: [], tasks: ["#\(id) ticker (ticker v1)"])
        #expect(throws: named) { try load(t, "ticker", 3) }
        #expect(throws: named) { try t.codeServer.softPurge("ticker") }
        #expect(throws: named) { try t.codeServer.delete("ticker") }
        #expect(named.description.contains("tracked task #\(id) ticker (ticker v1)"))
        #expect(t.versions("ticker") == [2, 1])
    }

    @Test("purge cancels the tasks of old code and reports them; a load with purge does too; they leave the table")
    func purgeCancels() async throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try load(t, "ticker", 1)
        let first = try startWaiting(t, "first", "ticker", 1)
        _ = try load(t, "ticker", 2)
        let second = try startWaiting(t, "second", "ticker", 2)
        let purged = try await offPool { try t.codeServer.purge("ticker") }
        #expect(purged.work.cancelledTasks == ["#\(first) first (ticker v1)"] && purged.work.unendedTasks.isEmpty)
        #expect(t.codeServer.tasks.all().map(\.id) == [second], "the current version's task runs on")
        let results = try load(t, "ticker", 3)
        #expect(results.first?.work.cancelledTasks == [], "v1 was gone already; v2 is old now and keeps its task")
        let loaded = try await offPool { try load(t, "ticker", 4, purge: true) }
        #expect(loaded.first?.work.cancelledTasks == ["#\(second) second (ticker v2)"])
        #expect(t.codeServer.tasks.all().isEmpty)
    }

    @Test("a task deaf to cancellation is reported as not ended, and leaves the table once it ends")
    func unended() async throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try load(t, "ticker", 1)
        let gate = Gate()
        let id = try t.node.kernel.startTask("deaf", lifetime: .untilPurged, site: CallSite(fileID: "ticker_v1/ticker.swift", line: 3)) {
            // Waits on a thread of its own, deaf to the task's cancellation.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                try! startThread {
                    gate.pass()
                    done.resume()
                }
            }
        }
        _ = try load(t, "ticker", 2)
        let purged = try await offPool { try t.codeServer.purge("ticker") }
        #expect(purged.work.unendedTasks == ["#\(id) deaf (ticker v1)"])
        #expect(t.codeServer.versions("ticker").old == nil, "the purge drops old all the same")
        gate.open()
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: [id], until: .now + .seconds(5)) }.isEmpty)
    }

    @Test("a purge's cancellations reach tracked tasks while the host's cooperative pool is blocked")
    func blockedPool() async throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try load(t, "ticker", 1)
        let id = try startWaiting(t, "ticker", "ticker", 1)
        _ = try load(t, "ticker", 2)
        // Every thread of the cooperative pool waits at the gate, as in a
        // host whose async code blocks; the purge runs on a thread of its own.
        let gate = Gate()
        final class Count: Sendable { let value = Atomic<Int>(0) }
        let blocking = Count()
        let width = processorCount()
        for _ in 0..<width {
            Task.detached {
                blocking.value.add(1, ordering: .relaxed)
                gate.pass()
            }
        }
        let purged = try await offPool {
            defer { gate.open() }
            let deadline = monotonic() + 10
            while blocking.value.load(ordering: .relaxed) < width, monotonic() < deadline { usleep(1_000) }
            return try t.codeServer.purge("ticker")
        }
        #expect(blocking.value.load(ordering: .relaxed) == width, "every pool thread was blocked")
        #expect(purged.work.cancelledTasks == ["#\(id) ticker (ticker v1)"] && purged.work.unendedTasks.isEmpty, "\(purged)")
    }

    @Test("a load that fails cancels the tasks its on-load hooks started")
    func failedLoad() async throws {
        let t = try TestNode()
        defer { t.close() }
        let kernel = t.node.kernel
        final class Started: Sendable { let ids = Mutex<[UInt64]>([]) }
        let started = Started()
        let good = t.loader.add("good", 1) {
            let id = try kernel.startTask("hook", lifetime: .untilPurged, site: CallSite(fileID: "good_v1/good.swift", line: 1)) {
                try await Task.sleep(for: .seconds(3600))
            }
            started.ids.withLock { $0.append(id) }
        }
        struct Refused: Error {}
        let bad = t.loader.add("bad", 1) { throw Refused() }
        #expect(throws: LoadError.self) { try t.codeServer.load([good, bad]) }
        let ids = started.ids.withLock { $0 }
        #expect(ids.count == 1, "the hook ran")
        // Its body sleeps an hour: ending within 5 s means it was cancelled.
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: ids, until: .now + .seconds(5)) }.isEmpty)
    }

    @Test("a whileCurrent task is cancelled by the load, rollback or delete that makes its version old, and then blocks nothing")
    func whileCurrent() async throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try load(t, "ticker", 1)
        let first = try startWaiting(t, "ticker", "ticker", 1, lifetime: .whileCurrent)
        let kept = try startWaiting(t, "job", "ticker", 1)
        _ = try load(t, "ticker", 2)
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: [first], until: .now + .seconds(5)) }.isEmpty)
        #expect(t.codeServer.tasks.all().map(\.id) == [kept], "an untilPurged task runs on in old code")
        t.codeServer.tasks.cancel([kept])
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: [kept], until: .now + .seconds(5)) }.isEmpty)
        let second = try startWaiting(t, "ticker", "ticker", 2, lifetime: .whileCurrent)
        _ = try t.codeServer.rollback("ticker")
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: [second], until: .now + .seconds(5)) }.isEmpty)
        let third = try startWaiting(t, "ticker", "ticker", 1, lifetime: .whileCurrent)
        _ = try t.codeServer.delete("ticker")
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: [third], until: .now + .seconds(5)) }.isEmpty)
        #expect(t.node.statusDocument().tasks == [])
    }

    @Test("a task from code outside a hot module is refused")
    func outside() throws {
        let t = try TestNode()
        defer { t.close() }
        #expect(throws: ProcessError.notInModule("App/main.swift")) {
            try t.node.kernel.startTask("x", lifetime: .untilPurged, site: CallSite(fileID: "App/main.swift", line: 1)) {}
        }
    }

    @Test("kept state lives while the module has a version, shows in status, and goes once the module is deleted and purged")
    func keptState() throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try load(t, "counter", 1)
        try t.node.kernel.withKept("counter", "hits") { term in term = .int(41) }
        _ = try load(t, "counter", 2)
        _ = try t.codeServer.purge("counter")
        #expect(try t.node.kernel.withKept("counter", "hits") { $0 } == .int(41))
        #expect(t.node.statusDocument().modules.first?.kept == [.init(key: "hits", bytes: 2)])
        _ = try t.codeServer.delete("counter")
        #expect(try t.node.kernel.withKept("counter", "hits") { $0 } == .int(41), "a deleted module may come back: rollback")
        _ = try t.codeServer.purge("counter")
        #expect(try t.node.kernel.withKept("counter", "hits") { $0 } == nil, "no version left: its state is gone")
    }

    @Test("the node's limits: a spawn, a task and a new kept key past theirs are refused, naming the limit; an end makes room")
    func limits() async throws {
        let t = try TestNode(limits: NodeLimits(processes: 2, tasks: 2, keptKeys: 2))
        defer { t.close() }
        _ = try load(t, "ticker", 1)
        let pids = [try t.spawn("ticker"), try t.spawn("ticker")]
        #expect(throws: ProcessError.systemLimit("the node runs 2 processes already, its limit; let some end first")) {
            try t.spawn("ticker")
        }
        #expect(t.node.kernel.send(.null, to: pids[0]))
        #expect(try await offPool { t.node.processes.waitForEnd(of: [pids[0]], until: .now + .seconds(5)) }.isEmpty)
        _ = try t.spawn("ticker")

        let first = try startWaiting(t, "a", "ticker", 1)
        try startWaiting(t, "b", "ticker", 1)
        #expect(throws: ProcessError.systemLimit("the node runs 2 tracked tasks already, its limit; let some end first")) {
            try startWaiting(t, "c", "ticker", 1)
        }
        t.codeServer.tasks.cancel([first])
        #expect(try await offPool { t.codeServer.tasks.waitForEnd(of: [first], until: .now + .seconds(5)) }.isEmpty)
        try startWaiting(t, "c", "ticker", 1)

        try t.node.kernel.withKept("ticker", "one") { $0 = .int(1) }
        try t.node.kernel.withKept("ticker", "two") { $0 = .int(2) }
        let refused = KeptError.tooManyKeys(module: "ticker", key: "three", limit: 2)
        #expect(throws: refused) { try t.node.kernel.withKept("ticker", "three") { $0 = .int(3) } }
        #expect(refused.description.contains("a dictionary under one key"))
        #expect(try t.node.kernel.withKept("ticker", "two") { $0 } == .int(2), "a key it keeps already is not new")
        try t.node.kernel.withKept("counter", "one") { $0 = .int(1) }
    }
}
