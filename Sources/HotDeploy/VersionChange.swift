import Hot
import HotPlatform

/// One module's change on one node.
public struct VersionChange: Sendable, Equatable {
    /// The module.
    public let module: String
    /// The version current before, if any.
    public let from: Int?
    /// The version current now.
    public let to: Int
    /// Servers whose `codeChange` failed: they stay on the version and state they had.
    public let codeChangeFailures: [(pid: String, reason: String)]
    /// Processes in old code stopped by `--purge` before the load.
    public var stopped: [String] = []
    /// Processes that would not stop: their old version stays mapped.
    public var stubborn: [String] = []

    public static func == (a: VersionChange, b: VersionChange) -> Bool {
        a.module == b.module && a.from == b.from && a.to == b.to
            && a.codeChangeFailures.map(\.pid) == b.codeChangeFailures.map(\.pid)
    }
}

