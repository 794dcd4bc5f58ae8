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
    /// What `--purge` stopped and cancelled before the load.
    public var work = StoppedWork()

    public init(module: String, from: Int?, to: Int, codeChangeFailures: [CodeChangeFailure]) {
        self.module = module
        self.from = from
        self.to = to
        self.codeChangeFailures = codeChangeFailures
    }

    /// The change one module of a node's `load` reply reports.
    public init(_ load: ModuleLoad) {
        self.init(module: load.module, from: load.from, to: load.to, codeChangeFailures: load.codeChangeFailures)
        work = load.work
    }

    public static func == (a: VersionChange, b: VersionChange) -> Bool {
        a.module == b.module && a.from == b.from && a.to == b.to
            && a.codeChangeFailures.map(\.pid) == b.codeChangeFailures.map(\.pid)
    }
}
