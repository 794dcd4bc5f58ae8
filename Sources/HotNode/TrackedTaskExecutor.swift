import HotPlatform

/// The threads tracked tasks run on: two of their own, one set per process,
/// rather than the host's cooperative pool (docs/ARCHITECTURE.md, "Tracked
/// tasks"). A host whose pool is busy, or blocked by synchronous work, then
/// does not hold up the cancellations a purge waits for, and a module's
/// task that blocks a thread takes one of these two, not the host's.
///
/// The queue holds at most one job per running tracked task (a task is
/// enqueued only when it is ready to run, and never twice at once), so the
/// node's task limit (`NodeLimits.tasks`) bounds it.
final class TrackedTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `head` are read and written only under `lock`.
    /// The one executor of the process; its threads start with the first tracked task.
    static let shared = TrackedTaskExecutor(threads: 2)

    private let lock = Condition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    private init(threads: Int) {
        for _ in 0..<threads { startThread { [self] in work() } }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        lock.withLock {
            jobs.append(job)
            lock.broadcast()
        }
    }

    /// One thread: runs the next job, or sleeps until there is one. The
    /// threads never end; the process's exit ends them.
    private func work() {
        while true {
            let job: UnownedJob = lock.withLock {
                while head == jobs.count { _ = lock.wait(until: nil) }
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                }
                return job
            }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
