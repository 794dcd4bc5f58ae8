import HotPlatform

/// A task executor with threads of its own, rather than the cooperative
/// pool: the node runs work on it that must go on while the pool is busy,
/// or blocked by synchronous code. Its threads start with the executor and
/// never end (the process's exit ends them), so each executor is made once
/// per process. Jobs run in the order they came, each on the next free thread.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `head` are read and written only under `lock`.

    /// The thread that runs the tasks of bridged calls (`AsyncBridge`): one,
    /// running their jobs in turn. Its queue holds at most a job per bridged
    /// call in flight, and those are bounded by the connections a node
    /// admits (docs/ARCHITECTURE.md, "Calls in flight").
    static let bridge = ThreadExecutor(threads: 1)

    /// The threads tracked tasks run on: two, not the host's pool
    /// (docs/ARCHITECTURE.md, "Tracked tasks"). A host whose pool is busy
    /// or blocked then does not hold up the cancellations a purge waits
    /// for, and a module's task that blocks a thread takes one of these,
    /// not the host's. The queue holds at most one job per running tracked
    /// task, so the node's task limit (`NodeLimits.tasks`) bounds it.
    static let trackedTasks = ThreadExecutor(threads: 2)

    private let lock = Condition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// An executor with `threads` threads of its own, for the life of the process.
    init(threads: Int) {
        for _ in 0..<threads { startThread { [self] in work() } }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        lock.withLock {
            jobs.append(job)
            lock.broadcast()
        }
    }

    /// One thread: runs the next job, or sleeps until there is one.
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
