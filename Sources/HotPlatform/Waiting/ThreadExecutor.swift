/// A task executor with threads of its own, rather than the cooperative
/// pool: the node runs work on it that must go on while the pool is busy,
/// or blocked by synchronous code. Its threads start with its first jobs,
/// up to `threads`, and never end (the process's exit ends them), so each
/// executor is made once per process. Jobs run in the order they came, each
/// on the next free thread.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs`, `head`, `started` and `idle` are read and written only under `lock`.

    private let lock = Condition()
    private let threads: Int
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var started = 0
    private var idle = 0

    /// An executor with up to `threads` threads of its own, for the life of the process.
    public init(threads: Int) {
        precondition(threads > 0, "an executor needs a thread")
        self.threads = threads
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let startOne: Bool = lock.withLock {
            jobs.append(job)
            lock.broadcast()
            // More jobs waiting than idle threads to take them: another
            // thread, while the executor has fewer than its number.
            guard jobs.count - head > idle, started < threads else { return false }
            started += 1
            return true
        }
        guard startOne else { return }
        do {
            try startThread { [self] in work() }
        } catch {
            // No thread to be had now (the process's thread limit): the job
            // stays queued for a thread that starts later, with the next job,
            // and a caller waiting on it meets its own deadline meanwhile.
            lock.withLock { started -= 1 }
        }
    }

    /// One thread: runs the next job, or sleeps until there is one.
    private func work() {
        while true {
            let job: UnownedJob = lock.withLock {
                idle += 1
                while head == jobs.count { _ = lock.wait(until: nil) }
                idle -= 1
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
