import Hot

/// What a client asks of a node. Each request is one `request` frame holding
/// a `Term` map with an `op` field; the node answers with one `Response`.
public enum Request: Sendable, Equatable {
    /// Is the node there? Answers the node's name.
    case ping
    /// The node's modules and processes (the document of `hot status --json`).
    case status
    /// An external call `module:function(args)`.
    case call(module: String, function: String, args: [Term])
    /// Begins an upload of `size` bytes into the node's staging folder; the
    /// bytes follow in `chunk` frames and the node answers once, after the last.
    case stage(file: String, size: Int, sha256: String)
    /// Loads staged files, all or none (`code:atomic_load`).
    case load(files: [String], purge: Bool, force: Bool)
    /// Stops the node cleanly.
    case stop
    /// Spawns `module:function(args)` as a process (or starts the server of that name).
    case spawn(module: String, function: String, args: [Term], name: String?)
    /// Sends a message to a pid (`<0.N.0>`) or a registered name.
    case send(to: String, message: Term)
    /// Purges a module's old code; `soft` refuses while processes run in it.
    case purge(module: String, soft: Bool)
    /// Makes a module's current code old.
    case delete(module: String)
    /// Trial-loads staged files in a throwaway process, loading nothing.
    case check(files: [String])
    /// Makes the modules' current versions the ones the node boots after a restart.
    case makePermanent(modules: [String])
    /// Makes a module's old version current again (it is still loaded).
    case rollback(module: String)
    /// Re-executes the node in place with only its current versions mapped
    /// (docs/ARCHITECTURE.md, "Compaction"); `purge` stops plain processes,
    /// which cannot cross, instead of refusing.
    case compact(purge: Bool)

    /// How long a node may take to trial-load one object unless it is told
    /// otherwise (`hotnode --trial-timeout`).
    public static let defaultTrialTimeout: Duration = .seconds(10)

    /// How long a client waits for this request's response. A request that
    /// trial-loads files (`check`, and `load` of files not tried before)
    /// may wait, per file, for a trial slot and then for the trial, each
    /// bounded by the trial timeout (docs/PROTOCOL.md, "Limits"); other
    /// requests get the connection's timeout (`.zero` here).
    public var replyTimeout: Duration {
        switch self {
        case .check(let files), .load(let files, _, _):
            Connection.defaultTimeout + Self.defaultTrialTimeout * (2 * files.count)
        default: .zero
        }
    }

    /// The request as a term.
    public var term: Term {
        switch self {
        case .ping: ["op": "ping"]
        case .status: ["op": "status"]
        case .call(let module, let function, let args):
            ["op": "call", "module": .string(module), "function": .string(function), "args": .list(args)]
        case .stage(let file, let size, let sha256):
            ["op": "stage", "file": .string(file), "size": .int(size), "sha256": .string(sha256)]
        case .load(let files, let purge, let force):
            ["op": "load", "files": .list(files.map { .string($0) }), "purge": .bool(purge), "force": .bool(force)]
        case .stop: ["op": "stop"]
        case .spawn(let module, let function, let args, let name):
            ["op": "spawn", "module": .string(module), "function": .string(function), "args": .list(args),
             "name": name.map { .string($0) } ?? .null]
        case .send(let to, let message): ["op": "send", "to": .string(to), "message": message]
        case .purge(let module, let soft): ["op": "purge", "module": .string(module), "soft": .bool(soft)]
        case .delete(let module): ["op": "delete", "module": .string(module)]
        case .check(let files): ["op": "check", "files": .list(files.map { .string($0) })]
        case .makePermanent(let modules): ["op": "makePermanent", "modules": .list(modules.map { .string($0) })]
        case .rollback(let module): ["op": "rollback", "module": .string(module)]
        case .compact(let purge): ["op": "compact", "purge": .bool(purge)]
        }
    }

    /// Levels a request adds around its payload: the request map, then the
    /// `args` list. They do not count against `TermCodec.maxDepth`.
    public static let envelopeDepth = 2

    /// Reads a request from a request frame's payload, refusing anything malformed.
    public init(payload: [UInt8]) throws(WireError) {
        let term: Term
        do { term = try TermCodec.decode(payload, maxDepth: TermCodec.maxDepth + Self.envelopeDepth) } catch {
            throw .badMessage(reason: "request does not decode: \(error)")
        }
        try self.init(term: term)
    }

    /// Reads a request from its term, refusing anything malformed.
    public init(term: Term) throws(WireError) {
        guard case .map(let fields) = term else { throw .badMessage(reason: "a request must be a map, got a \(term.kind)") }
        // Every field's value, read or ignored, nests at most `maxDepth`
        // from its own top, and so does each item of `args`: the decoder's
        // limit is that plus the envelope, which alone would let a field
        // the node ignores nest deeper than the documented limit.
        for (key, value) in fields {
            if key == "args", case .list(let items) = value {
                for item in items { try checkDepth(item, key) }
            } else {
                try checkDepth(value, key)
            }
        }
        guard let opField = term["op"] else { throw .badMessage(reason: "request has no op") }
        guard case .string(let op) = opField else { throw .badMessage(reason: "op must be a string, got a \(opField.kind)") }
        switch op {
        case "ping": self = .ping
        case "status": self = .status
        case "stop": self = .stop
        case "call":
            guard case .string(let module)? = term["module"], case .string(let function)? = term["function"],
                case .list(let args)? = term["args"]
            else { throw .badMessage(reason: "call needs module, function and args") }
            self = .call(module: module, function: function, args: args)
        case "stage":
            guard case .string(let file)? = term["file"], case .int(let size)? = term["size"],
                case .string(let sha256)? = term["sha256"]
            else { throw .badMessage(reason: "stage needs file, size and sha256") }
            guard size >= 0 else { throw .badMessage(reason: "stage size must not be negative, got \(size)") }
            self = .stage(file: file, size: size, sha256: sha256)
        case "check":
            self = .check(files: try strings(term, "files"))
        case "makePermanent":
            self = .makePermanent(modules: try strings(term, "modules"))
        case "rollback":
            guard case .string(let module)? = term["module"] else { throw .badMessage(reason: "rollback needs module") }
            self = .rollback(module: module)
        case "load":
            let files = try strings(term, "files")
            self = .load(files: files, purge: try flag(term, "purge"), force: try flag(term, "force"))
        case "spawn":
            guard case .string(let module)? = term["module"], case .string(let function)? = term["function"],
                case .list(let args)? = term["args"]
            else { throw .badMessage(reason: "spawn needs module, function and args") }
            self = .spawn(module: module, function: function, args: args, name: term["name"]?.stringValue)
        case "send":
            guard case .string(let to)? = term["to"], let message = term["message"] else {
                throw .badMessage(reason: "send needs to and message")
            }
            self = .send(to: to, message: message)
        case "purge":
            guard case .string(let module)? = term["module"] else { throw .badMessage(reason: "purge needs module") }
            self = .purge(module: module, soft: try flag(term, "soft"))
        case "compact": self = .compact(purge: try flag(term, "purge"))
        case "delete":
            guard case .string(let module)? = term["module"] else { throw .badMessage(reason: "delete needs module") }
            self = .delete(module: module)
        default:
            throw .badMessage(reason: "unknown op '\(truncated(op, to: 64))'")
        }
    }
}

/// A node's answer: a result, or an error with a code a script can test.
public enum Response: Sendable, Equatable {
    /// Done; the result.
    case ok(Term)
    /// Refused or failed; the code names the kind, the message says what to do.
    case error(code: ErrorCode, message: String)

    /// The response as a term.
    public var term: Term {
        switch self {
        case .ok(let value): ["ok": value]
        case .error(let code, let message): ["error": .string(code.rawValue), "message": .string(message)]
        }
    }

    /// Levels a response adds around its result (the `ok` map).
    public static let envelopeDepth = 1
    /// The longest error message a node sends, in bytes of UTF-8; a longer one
    /// (it may quote a huge name back) is cut and ends in "…".
    public static let maxMessageLength = 4 << 10

    /// Reads a response from a response frame's payload.
    public init(payload: [UInt8]) throws(WireError) {
        let term: Term
        do { term = try TermCodec.decode(payload, maxDepth: TermCodec.maxDepth + Self.envelopeDepth) } catch {
            throw .badMessage(reason: "\(error)")
        }
        try self.init(term: term)
    }

    /// The payload of the response frame, held to the frame limit: a long
    /// message is cut, and a result too large or too deep for the peer to
    /// read is replaced by an error that says so.
    public func boundedPayload() -> [UInt8] {
        switch self {
        case .error(let code, let message):
            return TermCodec.encode(Response.error(code: code, message: truncated(message, to: Self.maxMessageLength)).term)
        case .ok(let result):
            let depth = TermCodec.depth(of: result)
            guard depth <= TermCodec.maxDepth else {
                return Response.error(code: .failed, message: "the result nests \(depth) levels deep; the limit is \(TermCodec.maxDepth)").boundedPayload()
            }
            let payload = TermCodec.encode(term)
            let limit = FrameLimits.maxFrameLength - 1 - FrameLimits.macLength
            guard payload.count <= limit else {
                return Response.error(
                    code: .failed, message: "the result takes \(payload.count) bytes; a response frame holds at most \(limit)"
                ).boundedPayload()
            }
            return payload
        }
    }

    /// Reads a response from its term.
    public init(term: Term) throws(WireError) {
        if let value = term["ok"] {
            self = .ok(value)
        } else if case .string(let code)? = term["error"], case .string(let message)? = term["message"] {
            self = .error(code: ErrorCode(rawValue: code) ?? .failed, message: message)
        } else {
            throw .badMessage(reason: "response is neither ok nor error")
        }
    }
}

/// The closed set of failures a node reports (Erlang's load errors among them).
public enum ErrorCode: String, Sendable, Equatable {
    /// The request itself was malformed.
    case badRequest
    /// An external call reached no module or function (Erlang's `undef`).
    case undefined
    /// A call's arguments did not fit the function.
    case badArgument
    /// The called function threw.
    case raised
    /// No such staged file or module version (`nofile`).
    case noFile
    /// The object is not a loadable hot module (`badfile`).
    case badFile
    /// The object was built against another SDK, ABI or compiler.
    case mismatch
    /// Old code still has processes (`not_purged`).
    case notPurged
    /// The module is sticky and the load was not forced (`sticky_directory`).
    case sticky
    /// The on-load hook threw (`on_load_failure`).
    case onLoadFailure
    /// An upload did not match its announced size or hash.
    case badUpload
    /// A process operation failed (no such process, name taken, timeout).
    case process
    /// The node is compacting and did not act on the request: send it again
    /// on a new connection (docs/PROTOCOL.md, "compact").
    case reconnect
    /// Anything else.
    case failed
}

/// An optional boolean field: absent is false, anything but a bool is refused.
private func flag(_ term: Term, _ key: String) throws(WireError) -> Bool {
    guard let value = term[key] else { return false }
    guard case .bool(let b) = value else { throw .badMessage(reason: "'\(key)' must be true or false") }
    return b
}

/// A required list of strings.
private func strings(_ term: Term, _ key: String) throws(WireError) -> [String] {
    guard case .list(let list)? = term[key] else { throw .badMessage(reason: "'\(key)' must be a list of strings") }
    var result: [String] = []
    for item in list {
        guard case .string(let s) = item else { throw .badMessage(reason: "'\(key)' must be a list of strings") }
        result.append(s)
    }
    return result
}

/// Refuses a value of a request's field (an argument, a message, a field
/// the node ignores) nested deeper than the codec's limit.
private func checkDepth(_ term: Term, _ key: String) throws(WireError) {
    let depth = TermCodec.depth(of: term)
    guard depth <= TermCodec.maxDepth else {
        throw .badMessage(reason: "'\(truncated(key, to: 64))' nests \(depth) levels deep; the limit is \(TermCodec.maxDepth)")
    }
}

/// `text` cut to at most `limit` bytes of UTF-8 on a character boundary, ending in "…" when cut.
func truncated(_ text: String, to limit: Int) -> String {
    guard text.utf8.count > limit else { return text }
    var kept = ""
    var bytes = 0
    let room = limit - "…".utf8.count
    for character in text {
        let size = character.utf8.count
        guard bytes + size <= room else { break }
        kept.append(character)
        bytes += size
    }
    return kept + "…"
}
