import HotPlatform

extension ThreadExecutor {
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
}
