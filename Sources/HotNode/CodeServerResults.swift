import Hot

extension CodeServer {
    /// What a load did to one module.
    public struct LoadResult: Sendable, Equatable {
        /// The module.
        public let module: String
        /// The version that was current before, if any.
        public let from: Int?
        /// The version current now.
        public let to: Int
        /// Processes in old code that a purge before the load stopped.
        public var stopped: [Pid] = []
        /// Processes that would not stop: their version stays mapped.
        public var stubborn: [Pid] = []
        /// Async calls in old code that a purge before the load cancelled.
        public var cancelledCalls = 0
        /// Cancelled calls that had not ended when the purge gave up waiting.
        public var unendedCalls = 0
        /// Tracked tasks in old code that a purge before the load cancelled (`#3 ticker (hello v1)`).
        public var cancelledTasks: [String] = []
        /// Of those, the tasks still running when the purge gave up waiting.
        public var unendedTasks: [String] = []
    }

    /// What a purge did.
    public struct PurgeResult: Sendable {
        /// The version dropped, if there was an old one.
        public let version: Int?
        /// Processes that were stopped.
        public let stopped: [Pid]
        /// Processes that did not stop in time: their version stays mapped.
        public let stubborn: [Pid]
        /// Async calls in old code that were cancelled.
        public var cancelledCalls = 0
        /// Cancelled calls still running when the purge gave up waiting.
        public var unendedCalls = 0
        /// Tracked tasks in old code that were cancelled (`#3 ticker (hello v1)`).
        public var cancelledTasks: [String] = []
        /// Of those, the tasks still running when the purge gave up waiting:
        /// their version's code stays mapped, as for stubborn processes.
        public var unendedTasks: [String] = []
    }
}

/// One module's line of `hot status`.
public struct ModuleStatus: Sendable {
    /// The module.
    public let name: String
    /// Its current version.
    public let current: ModuleVersion?
    /// Its old version.
    public let old: ModuleVersion?
    /// Whether reload needs force.
    public let sticky: Bool
}
