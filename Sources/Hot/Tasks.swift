/// Where in a module's sources a call was made, and so which version made
/// it: `#fileID` names the Swift module the call was compiled into, and a
/// version of a hot module is compiled as a Swift module of its own,
/// `<module>_v<N>` (docs/ARCHITECTURE.md, "Fact: name-per-version"). The
/// SDK's calls that belong to a version (`Tasks.start`, `Kept`) take
/// `#fileID` and `#line` as default arguments, so the caller's version is
/// known without the node having to guess which thread or task runs it.
public struct CallSite: Sendable, Hashable, CustomStringConvertible {
    /// `#fileID` of the call: `hello_v3/hello.swift`.
    public let fileID: String
    /// `#line` of the call.
    public let line: Int
    /// The hot module's name (`hello`), or the whole Swift module name when it
    /// carries no version (code outside a hot module).
    public let module: String
    /// The version the call was compiled into; nil outside a hot module.
    public let version: Int?

    /// Reads `fileID` (`hello_v3/hello.swift`) and `line`.
    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
        let swiftModule = fileID.split(separator: "/", maxSplits: 1).first.map(String.init) ?? fileID
        // `ModuleDescriptor.swiftModuleName`'s `<name>_v<digits>`, read from
        // the end: a name may hold `_v` itself.
        let bytes = Array(swiftModule.utf8)
        var digits = bytes.count
        while digits > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[digits - 1]) { digits -= 1 }
        if digits < bytes.count, digits >= 3, bytes[digits - 1] == UInt8(ascii: "v"), bytes[digits - 2] == UInt8(ascii: "_"),
            let version = Int(String(decoding: bytes[digits...], as: UTF8.self)), version > 0
        {
            module = String(decoding: bytes[..<(digits - 2)], as: UTF8.self)
            self.version = version
        } else {
            module = swiftModule
            version = nil
        }
    }

    /// The file's name without its module: `hello.swift`.
    public var file: String {
        fileID.split(separator: "/", maxSplits: 1).last.map(String.init) ?? fileID
    }

    /// `hello.swift:12`.
    public var description: String { "\(file):\(line)" }
}

/// Long-running async work that the node can see: Hot's tracked tasks
/// (docs/RELOADING.md, "Hot's tracked tasks").
///
/// A `Task` a module starts on its own is invisible to the node: it runs the
/// code of the version that started it for as long as it likes, and no
/// status, purge or load knows of it. A tracked task belongs to the version
/// whose code called `start`, as a process belongs to the version it was
/// spawned in: `hot status` lists it with its label and where it was
/// started; it keeps its version old with work, so a load that would drop
/// that version, a soft purge and a delete are refused with `notPurged`; a
/// purge cancels it; it leaves the node's tables when it ends.
public enum Tasks {
    /// Starts `body` in a task of its own (a detached task, at no priority of
    /// its caller's), tracked by the node as work of the calling version.
    /// `body` should end when cancelled: a purge cancels it, and one that
    /// has not ended by the purge's deadline is reported as not ended (its
    /// version's code stays mapped, as for a process that would not stop).
    /// `lifetime` says whether a load that makes its version old cancels it.
    /// In a trial load (the throwaway process a new version is first loaded
    /// in) `body` is not started. Throws outside a node, for code that is
    /// not a hot module's, and past the node's limit of tracked tasks
    /// (`ProcessError.systemLimit`).
    @discardableResult
    public static func start(
        _ label: String, lifetime: TaskLifetime = .untilPurged, fileID: String = #fileID, line: Int = #line,
        _ body: @escaping @Sendable () async throws -> Void
    ) throws -> TrackedTask {
        let site = CallSite(fileID: fileID, line: line)
        let id = try Runtime.current().startTask(label, lifetime: lifetime, site: site, body)
        return TrackedTask(id: id, label: label)
    }
}

/// How long a tracked task may run, besides its own end.
public enum TaskLifetime: String, Sendable, Codable {
    /// Until a purge of its version cancels it: its version stays old with
    /// work, and a load that would drop it is refused, as for a process.
    case untilPurged
    /// Only while its version is current: the load, rollback or delete that
    /// makes its version old cancels it. For work each version's on-load
    /// hook starts anew (a ticker): the new version's task takes over from
    /// the old one's, and the next load needs no purge.
    case whileCurrent
}

/// A task started by `Tasks.start`.
public struct TrackedTask: Sendable, Hashable, CustomStringConvertible {
    /// The node's number for it, unique in the node's process.
    public let id: UInt64
    /// The label it was started with.
    public let label: String

    /// A tracked task the node numbered `id`.
    public init(id: UInt64, label: String) {
        self.id = id
        self.label = label
    }

    /// Cancels the task (Task cancellation: it unwinds where it next checks);
    /// nothing when it has ended already.
    public func cancel() {
        (try? Runtime.current())?.cancelTask(id)
    }

    /// `#3 ticker`, as `hot status` names it.
    public var description: String { "#\(id) \(label)" }
}
