import Hot
import HotPlatform
import HotWire

/// One module's change on one node.
public struct VersionChange: Sendable, Equatable {
    /// The module.
    public let module: String
    /// The version current before, if any.
    public let from: Int?
    /// The version current now.
    public let to: Int
    /// Servers whose `codeChange` failed: they stay on the version and state they had.
    public let codeChangeFailures: [CodeChangeFailure]
    /// Processes in old code stopped by `--purge` before the load.
    public var stopped: [String] = []
    /// Processes that would not stop: their old version stays mapped.
    public var stubborn: [String] = []
    /// Async calls in old code cancelled by `--purge`, and those that did not end.
    public var cancelledCalls = 0
    public var unendedCalls = 0
    /// Tracked tasks in old code cancelled by `--purge`, and those that did not end.
    public var cancelledTasks: [String] = []
    public var unendedTasks: [String] = []

    public init(module: String, from: Int?, to: Int, codeChangeFailures: [CodeChangeFailure]) {
        self.module = module
        self.from = from
        self.to = to
        self.codeChangeFailures = codeChangeFailures
    }

    /// The change one module of a node's `load` reply reports.
    public init(_ load: ModuleLoad) {
        self.init(module: load.module, from: load.from, to: load.to, codeChangeFailures: load.codeChangeFailures)
        stopped = load.stopped
        stubborn = load.stubborn
        cancelledCalls = load.cancelledCalls ?? 0
        unendedCalls = load.unendedCalls ?? 0
        cancelledTasks = load.cancelledTasks ?? []
        unendedTasks = load.unendedTasks ?? []
    }

    public static func == (a: VersionChange, b: VersionChange) -> Bool {
        a.module == b.module && a.from == b.from && a.to == b.to
            && a.codeChangeFailures.map(\.pid) == b.codeChangeFailures.map(\.pid)
    }
}
