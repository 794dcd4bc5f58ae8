import Hot
import HotPlatform
import Logging

/// The tracked tasks (`Tasks.start`) running in the node, each with the
/// version that started it: what the process table is for processes, for
/// async work (docs/ARCHITECTURE.md, "Tracked tasks"). A task is in the
/// table from before its body starts until after it ends, so a purge or a
/// load that reads the table never misses one that runs.
///
/// A task belongs to a version by module name and number, not by the
/// `ModuleVersion` object: an on-load hook starts its tasks before its
/// version is made, and one number names one build in a node.
final class TaskTable: @unchecked Sendable {
    // @unchecked: `state` is read and written only under `lock`.
    struct Entry: Sendable {
        let id: UInt64
        let label: String
        let module: String
        let version: Int
        let lifetime: TaskLifetime
        let site: CallSite
        /// When it started, seconds since the epoch.
        let startedAt: Double
        /// The running task; nil for the moment between registering and starting it.
        var handle: Task<Void, Never>?
        /// Set by a cancel that came before the handle: the handle is cancelled as it is stored.
        var cancelled = false

        /// `#3 ticker (hello v2)`: how refusals and replies name it.
        var description: String { "#\(id) \(label) (\(module) v\(version))" }
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 1
    }

    /// The table's lock, and the condition a purge waits on for cancelled
    /// tasks to end. A leaf in the node's lock order (docs/ARCHITECTURE.md,
    /// "Lock order"), like the process table's: no task's code runs under it.
    private let lock = Condition()
    private var state = State()
    private let logger: Logger
    /// Tracked tasks at once (`NodeLimits.tasks`).
    let limit: Int

    init(logger: Logger, limit: Int = NodeLimits().tasks) {
        self.logger = logger
        self.limit = limit
    }

    /// Registers a task of `module` v`version` and starts `body` in a
    /// detached task; the task leaves the table when `body` returns or throws.
    /// Refused with `systemLimit` when `limit` tasks run already.
    func start(
        _ label: String, module: String, version: Int, lifetime: TaskLifetime = .untilPurged, site: CallSite,
        _ body: @escaping @Sendable () async throws -> Void
    ) throws(ProcessError) -> UInt64 {
        let made: Entry? = lock.withLock {
            guard state.entries.count < limit else { return nil }
            let id = state.nextID
            state.nextID += 1
            let entry = Entry(
                id: id, label: label, module: module, version: version, lifetime: lifetime, site: site, startedAt: now())
            state.entries[id] = entry
            return entry
        }
        guard let entry = made else {
            throw .systemLimit("the node runs \(limit) tracked tasks already, its limit; let some end first")
        }
        // On the tracked tasks' own threads, not the host's cooperative pool.
        let handle = Task.detached(executorPreference: ThreadExecutor.trackedTasks) { [self] in
            defer { remove(entry.id) }
            do {
                try await body()
            } catch is CancellationError {
                logger.info("task \(entry.description) stopped")
            } catch {
                // A task that throws ends alone, as a process does.
                logger.warning("task \(entry.description) ended: \(error)")
            }
        }
        let cancelledMeanwhile = lock.withLock {
            guard state.entries[entry.id] != nil else { return false }
            state.entries[entry.id]?.handle = handle
            return state.entries[entry.id]?.cancelled == true
        }
        if cancelledMeanwhile { handle.cancel() }
        return entry.id
    }

    private func remove(_ id: UInt64) {
        lock.withLock {
            state.entries[id] = nil
            lock.broadcast()
        }
    }

    /// Every task, by number.
    func all() -> [Entry] {
        lock.withLock { state.entries.values.sorted { $0.id < $1.id } }
    }

    /// The tasks of `module` v`version`.
    func running(_ module: String, version: Int) -> [Entry] {
        all().filter { $0.module == module && $0.version == version }
    }

    /// Cancels the tasks numbered `ids` that still run (Task cancellation:
    /// each unwinds where it next checks or awaits something cancellable).
    func cancel(_ ids: [UInt64]) {
        let handles = lock.withLock {
            ids.compactMap { id -> Task<Void, Never>? in
                state.entries[id]?.cancelled = true
                return state.entries[id]?.handle
            }
        }
        // Outside the lock: cancelling runs the task's cancellation handlers,
        // module code that may call into the node.
        for handle in handles { handle.cancel() }
    }

    /// Cancels the `whileCurrent` tasks of `module` whose version is not
    /// `current` (nil: the module has no current version): after a load,
    /// rollback or delete made their version old.
    func cancelSuperseded(_ module: String, current: Int?) {
        let superseded = all().filter { $0.module == module && $0.lifetime == .whileCurrent && $0.version != current }
        cancel(superseded.map(\.id))
    }

    /// Cancels every task whose version `keep` refuses: after a load that
    /// failed, the tasks the on-load hooks of its versions started.
    func cancel(unless keep: (_ module: String, _ version: Int) -> Bool) {
        let doomed = all().filter { !keep($0.module, $0.version) }
        for entry in doomed { logger.info("cancelling task \(entry.description): its version is neither current nor old") }
        cancel(doomed.map(\.id))
    }

    /// Waits until none of `ids` runs or `deadline` passes; returns those still running.
    func waitForEnd(of ids: [UInt64], until deadline: ContinuousClock.Instant) -> [Entry] {
        return lock.withLock {
            while true {
                let running = ids.compactMap { state.entries[$0] }
                if running.isEmpty || ContinuousClock.now >= deadline { return running }
                // Checked and waited under the one lock `remove` broadcasts
                // under: an end between the check and the wait is not missed.
                _ = lock.wait(until: deadline)
            }
        }
    }
}
