import Hot
import HotWire

extension CodeServer {
    /// What a load did to one module.
    public struct LoadResult: Sendable, Equatable {
        /// The module.
        public let module: String
        /// The version that was current before, if any.
        public let from: Int?
        /// The version current now.
        public let to: Int
        /// What a purge before the load stopped and cancelled; nothing without one.
        public var work = StoppedWork()
    }

    /// What a purge did.
    public struct PurgeResult: Sendable {
        /// The version dropped, if there was an old one.
        public let version: Int?
        /// What it stopped and cancelled.
        public var work = StoppedWork()
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
