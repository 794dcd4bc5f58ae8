/// A server (Erlang's gen_server): the loop lives in the node, and each
/// message reaches the current version of the module's callbacks. When the
/// version changed since the last message, the old version encodes the state
/// and the new one decodes it through `codeChange`, so a server survives any
/// number of reloads with its state.
public protocol Server: SendableMetatype {
    /// The server's state; it crosses versions as a `Term`.
    associatedtype State: Codable & SendableMetatype
    /// The state a new server starts with.
    static func start(_ args: [Term]) throws -> State
    /// A synchronous request; the result is the reply.
    static func handleCall(_ request: Term, state: inout State) throws -> Term
    /// An asynchronous request.
    static func handleCast(_ message: Term, state: inout State) throws
    /// Any other message sent to the server.
    static func handleInfo(_ message: Term, state: inout State) throws
    /// Turns the state of an older version (as a term) into this version's.
    static func codeChange(from version: Int, state: Term) throws -> State
}

extension Server {
    /// Ignores casts.
    public static func handleCast(_ message: Term, state: inout State) throws {}
    /// Ignores other messages.
    public static func handleInfo(_ message: Term, state: inout State) throws {}
    /// Decodes the old state as this version's: enough when the shape did not
    /// change, or only gained optional fields.
    public static func codeChange(from version: Int, state: Term) throws -> State {
        try TermDecoder().decode(State.self, from: state)
    }
}

/// A server's state inside the node: opaque to it, only ever handed back to
/// the closures of the version that made it.
public final class ServerState: @unchecked Sendable {
    // @unchecked: a server's state is touched by its own loop thread only.
    var value: Any
    init(_ value: Any) { self.value = value }
}

/// A server type of one version, type-erased for the node.
public struct ServerSpec: Sendable {
    /// The name `Process.startServer` and `hot spawn` use.
    public let name: String
    /// Makes the first state.
    public let start: @Sendable ([Term]) throws -> ServerState
    /// Handles a call.
    public let handleCall: @Sendable (Term, ServerState) throws -> Term
    /// Handles a cast.
    public let handleCast: @Sendable (Term, ServerState) throws -> Void
    /// Handles another message.
    public let handleInfo: @Sendable (Term, ServerState) throws -> Void
    /// Encodes the state for the next version.
    public let encode: @Sendable (ServerState) throws -> Term
    /// Makes this version's state from an older version's term.
    public let codeChange: @Sendable (Int, Term) throws -> ServerState
    /// Makes this version's state from a term this same version encoded:
    /// how a server's state crosses a compaction, where the process is new
    /// but the version is not (so `codeChange` is not asked).
    public let decode: @Sendable (Term) throws -> ServerState

    /// Declares `type` as a server named `name`.
    public static func server<S: Server>(_ name: String, _ type: S.Type) -> ServerSpec {
        @Sendable func state(_ box: ServerState) throws -> S.State {
            guard let value = box.value as? S.State else { throw ServerSpecError.foreignState(name) }
            return value
        }
        return ServerSpec(
            name: name,
            start: { args in ServerState(try S.start(args)) },
            handleCall: { request, box in
                var s = try state(box)
                let reply = try S.handleCall(request, state: &s)
                box.value = s
                return reply
            },
            handleCast: { message, box in
                var s = try state(box)
                try S.handleCast(message, state: &s)
                box.value = s
            },
            handleInfo: { message, box in
                var s = try state(box)
                try S.handleInfo(message, state: &s)
                box.value = s
            },
            encode: { box in try TermEncoder().encode(try state(box)) },
            codeChange: { version, term in ServerState(try S.codeChange(from: version, state: term)) },
            decode: { term in ServerState(try TermDecoder().decode(S.State.self, from: term)) })
    }
}

/// A state handed to a version that did not make it: a bug in the node.
enum ServerSpecError: Error, CustomStringConvertible {
    case foreignState(String)
    var description: String { "server \(foreignStateName): state of another version" }
    private var foreignStateName: String {
        switch self { case .foreignState(let n): n }
    }
}

/// Server requests from module code.
public enum Servers {
    /// Starts a server of `module` named `server`, registered under `name` if given.
    public static func start(_ module: String, _ server: String, _ args: [Term] = [], name: String? = nil) throws -> Pid {
        try Runtime.current().startServer(module, server, args, name: name)
    }

    /// How long a server call waits for its reply unless told otherwise.
    public static let callTimeout: Duration = .seconds(5)

    /// A synchronous request to a server (by registered name); waits for the reply.
    public static func call(_ name: String, _ request: Term, timeout: Duration = Servers.callTimeout) throws -> Term {
        let runtime = try Runtime.current()
        guard let pid = runtime.whereis(name) else { throw ProcessError.noProcess(name) }
        return try runtime.serverCall(pid, request, timeout: timeout)
    }

    /// A synchronous request to a server by pid.
    public static func call(_ pid: Pid, _ request: Term, timeout: Duration = Servers.callTimeout) throws -> Term {
        try Runtime.current().serverCall(pid, request, timeout: timeout)
    }

    /// An asynchronous request to a server (by registered name).
    public static func cast(_ name: String, _ message: Term) throws {
        let runtime = try Runtime.current()
        guard let pid = runtime.whereis(name), runtime.serverCast(pid, message) else { throw ProcessError.noProcess(name) }
    }
}
