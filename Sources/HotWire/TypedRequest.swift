import Hot

/// A request together with the reply document it is answered with: built
/// only by one constructor per op, each fixing `Reply` to the document the
/// node's operation for that op answers with (docs/PROTOCOL.md lists them).
/// So `client.request(.status)` is a `StatusReply`, and asking a `load` for
/// a `StatusReply` does not compile. On the wire it is its `request` alone.
public struct TypedRequest<Reply: ReplyDocument>: Sendable, Equatable {
    /// The request as sent.
    public let request: Request

    private init(_ request: Request) { self.request = request }
}

extension TypedRequest where Reply == PingReply {
    /// Is the node there?
    public static var ping: Self { Self(.ping) }
}

extension TypedRequest where Reply == StatusReply {
    /// The node's modules and processes.
    public static var status: Self { Self(.status) }
}

extension TypedRequest where Reply == StopReply {
    /// Stops the node cleanly.
    public static var stop: Self { Self(.stop) }
}

extension TypedRequest where Reply == CallReply {
    /// An external call `module:function(args)`.
    public static func call(module: String, function: String, args: [Term]) -> Self {
        Self(.call(module: module, function: function, args: args))
    }
}

extension TypedRequest where Reply == StageReply {
    /// The header of an upload of `size` bytes; its chunks follow it.
    public static func stage(file: String, size: Int, sha256: String) -> Self {
        Self(.stage(file: file, size: size, sha256: sha256))
    }
}

extension TypedRequest where Reply == LoadReply {
    /// Loads staged files, all or none.
    public static func load(files: [String], purge: Bool, force: Bool) -> Self {
        Self(.load(files: files, purge: purge, force: force))
    }
}

extension TypedRequest where Reply == SpawnReply {
    /// Spawns a process, or starts the server of that name.
    public static func spawn(module: String, function: String, args: [Term], name: String?) -> Self {
        Self(.spawn(module: module, function: function, args: args, name: name))
    }
}

extension TypedRequest where Reply == SendReply {
    /// Sends a message to a pid or a registered name.
    public static func send(to: String, message: Term) -> Self { Self(.send(to: to, message: message)) }
}

extension TypedRequest where Reply == PurgeReply {
    /// Purges a module's old code.
    public static func purge(module: String, soft: Bool) -> Self { Self(.purge(module: module, soft: soft)) }
}

extension TypedRequest where Reply == DeleteReply {
    /// Makes a module's current code old.
    public static func delete(module: String) -> Self { Self(.delete(module: module)) }
}

extension TypedRequest where Reply == CheckReply {
    /// Trial-loads staged files, loading nothing.
    public static func check(files: [String]) -> Self { Self(.check(files: files)) }
}

extension TypedRequest where Reply == MakePermanentReply {
    /// Makes the modules' current versions the ones the node boots.
    public static func makePermanent(modules: [String]) -> Self { Self(.makePermanent(modules: modules)) }
}

extension TypedRequest where Reply == RollbackReply {
    /// Makes a module's old version current again.
    public static func rollback(module: String) -> Self { Self(.rollback(module: module)) }
}

extension TypedRequest where Reply == CompactReply {
    /// Re-executes the node with only its current versions mapped.
    public static func compact(purge: Bool) -> Self { Self(.compact(purge: purge)) }
}

extension Request {
    /// The request's `op` field, the name its reply document gives as `ReplyDocument.request`.
    public var op: String {
        guard case .string(let op)? = term["op"] else { preconditionFailure("every request's term has an op") }
        return op
    }
}
