import Synchronization

/// What a node provides to module code: external calls, processes, messages.
/// The node installs one before it loads any module; module code reaches it
/// through `Modules`, `Process` and `Server`.
public protocol NodeRuntime: AnyObject, Sendable {
    /// An external call: reaches the current version of `module`.
    func call(_ module: String, _ function: String, _ args: [Term]) throws -> Term
    /// Spawns a process running `module:function(args)` in the module's current version.
    func spawn(_ module: String, _ function: String, _ args: [Term], name: String?) throws -> Pid
    /// Starts a server of `module` (see `Server`), optionally registered under `name`.
    func startServer(_ module: String, _ server: String, _ args: [Term], name: String?) throws -> Pid
    /// Puts a message in a process's mailbox; false if there is no such process.
    func send(_ message: Term, to pid: Pid) -> Bool
    /// The pid registered under `name`.
    func whereis(_ name: String) -> Pid?
    /// The calling process's pid, or nil outside a process.
    func selfPid() -> Pid?
    /// Waits for the calling process's next message; nil once `timeout` has passed.
    func receive(timeout: Duration?) throws -> Term?
    /// Throws `ProcessError.cancelled` if the calling process was told to stop.
    func checkCancellation() throws
    /// A synchronous request to a server; waits up to `timeout` for the reply.
    func serverCall(_ pid: Pid, _ request: Term, timeout: Duration) throws -> Term
    /// An asynchronous message to a server's `handleCast`.
    func serverCast(_ pid: Pid, _ message: Term) -> Bool
    /// Starts `body` as a tracked task of the version `site` names; its number.
    func startTask(
        _ label: String, lifetime: TaskLifetime, site: CallSite, _ body: @escaping @Sendable () async throws -> Void
    ) throws -> UInt64
    /// Cancels the tracked task numbered `id`, if it still runs.
    func cancelTask(_ id: UInt64)
    /// Runs `body` on the term kept for `module` under `key` (nil when none),
    /// under that key's lock; what `body` leaves is kept (nil drops it).
    func withKept<R>(_ module: String, _ key: String, _ body: (inout Term?) throws -> R) throws -> R
}

/// Where module code finds the node it runs in.
public enum Runtime {
    /// Retained for the life of the process (docs/ARCHITECTURE.md, "Retained
    /// for the node's life"): module code may read it at any time.
    private static let installed = Published<RuntimeBox>()

    /// Installs the node's runtime; called once, by the node, before any load.
    public static func install(_ runtime: any NodeRuntime) {
        installed.publish(RuntimeBox(runtime))
    }

    /// The node's runtime; throws outside a node.
    public static func current() throws(ProcessError) -> any NodeRuntime {
        guard let runtime = installed.withObject({ $0.runtime }) else { throw .noNode }
        return runtime
    }
}

private final class RuntimeBox: Sendable {
    let runtime: any NodeRuntime
    init(_ runtime: any NodeRuntime) { self.runtime = runtime }
}

/// Why a process operation failed.
public enum ProcessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The code does not run inside a node.
    case noNode
    /// `receive` and `self` need the caller to be a process.
    case notInProcess
    /// The process was told to stop (a purge of its version); let it unwind.
    case cancelled
    /// No process is registered under the name.
    case noProcess(String)
    /// A name is already registered to another process.
    case nameTaken(String)
    /// The call comes from code outside a hot module (its `#fileID`), and
    /// so belongs to no version.
    case notInModule(String)
    /// A server call, or a server's start, got no answer within this long.
    case timeout(after: Duration)
    /// The server ended before it replied.
    case serverEnded(String)
    /// The node runs as many processes, or tracked tasks, as its limit
    /// allows (Erlang's `system_limit`); the text names the limit.
    case systemLimit(String)

    public var description: String {
        switch self {
        case .noNode: "not running inside a hot node"
        case .notInProcess: "not called from a process"
        case .cancelled: "process cancelled"
        case .noProcess(let name): "no process named '\(name)'"
        case .nameTaken(let name): "the name '\(name)' is already registered"
        case .notInModule(let fileID): "\(fileID) is not a hot module's code, so its work belongs to no version"
        case .timeout(let duration):
            // Hot imports nothing but the standard library: seconds, as `hot` writes them elsewhere.
            "no reply within \(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) s"
        case .serverEnded(let reason): "server ended: \(reason)"
        case .systemLimit(let what): what
        }
    }
}

/// External calls between modules.
public enum Modules {
    /// Calls `module:function(args)` in the module's current version
    /// (Erlang's `Module:Function(Args)` from another module).
    public static func call(_ module: String, _ function: String, _ args: [Term] = []) throws -> Term {
        try Runtime.current().call(module, function, args)
    }
}

/// Light processes: spawned in a version, with a pid and a mailbox.
public enum Process {
    /// Spawns `module:function(args)` in the module's current version, which it
    /// pins until it returns or switches code. Past the node's limit of
    /// processes it throws `ProcessError.systemLimit`.
    public static func spawn(_ module: String, _ function: String, _ args: [Term] = [], name: String? = nil) throws -> Pid {
        try Runtime.current().spawn(module, function, args, name: name)
    }

    /// The calling process's pid.
    public static func current() throws -> Pid {
        guard let pid = try Runtime.current().selfPid() else { throw ProcessError.notInProcess }
        return pid
    }

    /// Waits for the next message; nil when `timeout` passes first (nil: no bound).
    /// Throws `ProcessError.cancelled` when the process is told to stop.
    public static func receive(timeout: Duration? = nil) throws -> Term? {
        try Runtime.current().receive(timeout: timeout)
    }

    /// Sends a message; false if no such process lives.
    @discardableResult
    public static func send(_ message: Term, to pid: Pid) throws -> Bool {
        try Runtime.current().send(message, to: pid)
    }

    /// Sends a message to a registered name.
    public static func send(_ message: Term, to name: String) throws {
        let runtime = try Runtime.current()
        guard let pid = runtime.whereis(name), runtime.send(message, to: pid) else { throw ProcessError.noProcess(name) }
    }

    /// The pid registered under `name`, if any.
    public static func whereis(_ name: String) throws -> Pid? {
        try Runtime.current().whereis(name)
    }

    /// Throws `ProcessError.cancelled` if the process was told to stop; a
    /// process that computes for long without receiving should call it.
    public static func checkCancellation() throws {
        try Runtime.current().checkCancellation()
    }
}

/// Thrown by a process to leave its version and continue in the module's
/// current one: the Swift form of Erlang's `?MODULE:loop(State)`. The runtime
/// calls `function(args)` of the current version in the same process.
public struct CodeSwitch: Error, Sendable {
    /// The function to continue in.
    public let function: String
    /// Its arguments (the process's state).
    public let args: [Term]

    /// A switch into `function(args)` of the current version.
    public init(to function: String, _ args: [Term] = []) {
        self.function = function
        self.args = args
    }
}
