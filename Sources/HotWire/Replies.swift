import Hot

/// A document a node answers a request with: the node encodes it into the
/// `ok` term of its response, the client decodes it from there. One type
/// serves both sides, so neither builds a map by hand nor reads one by key
/// (docs/PROTOCOL.md, "Requests", lists the shapes).
public protocol ReplyDocument: Codable, Sendable, Equatable {
    /// The request it answers, as its `op` reads ("status", "load"), for error messages.
    static var request: String { get }
}

extension ReplyDocument {
    /// The reply as the term the node sends.
    public var term: Term {
        do {
            return try TermEncoder().encode(self)
        } catch {
            // Replies hold strings, bools, doubles and Ints, each of which has a term.
            preconditionFailure("a \(Self.request) reply did not encode: \(error)")
        }
    }

    /// Reads a reply from the term a node sent; a missing or mistyped field is refused.
    public init(term: Term) throws(ReplyError) {
        do {
            self = try TermDecoder().decode(Self.self, from: term)
        } catch let error as TermDecodingError {
            throw ReplyError(request: Self.request, problem: error)
        } catch {
            throw ReplyError(request: Self.request, problem: .dataCorrupted("\(error)", path: ""))
        }
    }
}

/// A reply whose term is one bare value (a list, a string, a map) rather than a map of fields.
public protocol BareReply: ReplyDocument {
    associatedtype Value: Codable
    /// What the term holds.
    var value: Value { get }
    init(value: Value)
}

extension BareReply {
    public init(from decoder: any Decoder) throws {
        self.init(value: try decoder.singleValueContainer().decode(Value.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// A node's reply that is not the document its request answers with.
public struct ReplyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request the reply answers ("status").
    public let request: String
    /// What the decoder found wrong, and where.
    public let problem: TermDecodingError

    /// A reply error from its parts.
    public init(request: String, problem: TermDecodingError) {
        self.request = request
        self.problem = problem
    }

    /// "the node's status reply lacks modules[0].current.version".
    public var description: String {
        if case .missingKey(let key, let path) = problem {
            return "the node's \(request) reply lacks \(path.isEmpty ? key : path + "." + key)"
        }
        return "the node's \(request) reply is malformed: \(problem)"
    }
}

/// An optional field that a reply always carries: `null` when there is no
/// value, never an absent key, because that is what nodes have always sent.
/// A reply that lacks the key is refused rather than read as nil.
@propertyWrapper
public struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The field's value; nil is written as `null`.
    public var wrappedValue: Value?

    /// A field holding `wrappedValue`.
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// A server whose `codeChange` failed: it stays on the version and state it had.
public struct CodeChangeFailure: Codable, Sendable, Equatable {
    /// The server's pid, printed (`<0.7.0>`).
    public var pid: String
    /// The error `codeChange` threw.
    public var reason: String

    public init(pid: String, reason: String) {
        self.pid = pid
        self.reason = reason
    }
}

/// One module of a `load` reply.
public struct ModuleLoad: Codable, Sendable, Equatable {
    /// The module loaded.
    public var module: String
    /// The version current before the load; nil for a module new to the node.
    @Nullable public var from: Int?
    /// The version current now.
    public var to: Int
    /// Servers that stay on the old version because their `codeChange` failed.
    public var codeChangeFailures: [CodeChangeFailure]
    /// What a `purge` before the load stopped and cancelled; nothing without one.
    public var work: StoppedWork

    public init(module: String, from: Int?, to: Int, codeChangeFailures: [CodeChangeFailure], work: StoppedWork = StoppedWork()) {
        self.module = module
        self.from = from
        self.to = to
        self.codeChangeFailures = codeChangeFailures
        self.work = work
    }

    private enum CodingKeys: String, CodingKey { case module, from, to, codeChangeFailures }

    // `work`'s fields sit flat in this map (`StoppedWork`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        module = try container.decode(String.self, forKey: .module)
        _from = try container.decode(Nullable<Int>.self, forKey: .from)
        to = try container.decode(Int.self, forKey: .to)
        codeChangeFailures = try container.decode([CodeChangeFailure].self, forKey: .codeChangeFailures)
        work = try StoppedWork(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(module, forKey: .module)
        try container.encode(_from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(codeChangeFailures, forKey: .codeChangeFailures)
        try work.encode(to: encoder)
    }
}

/// The reply to `load`: a list, one entry per module loaded.
public struct LoadReply: BareReply {
    public static let request = "load"
    public var modules: [ModuleLoad]

    public init(modules: [ModuleLoad]) { self.modules = modules }

    /// `BareReply`'s view: the list itself.
    public init(value: [ModuleLoad]) { modules = value }
    public var value: [ModuleLoad] { modules }
}

/// The reply to `rollback`: the module's old version is current again.
public struct RollbackReply: ReplyDocument {
    public static let request = "rollback"
    public var module: String
    /// The version current before; nil when the module had been deleted.
    @Nullable public var from: Int?
    public var to: Int
    public var codeChangeFailures: [CodeChangeFailure]

    public init(module: String, from: Int?, to: Int, codeChangeFailures: [CodeChangeFailure]) {
        self.module = module
        self.from = from
        self.to = to
        self.codeChangeFailures = codeChangeFailures
    }
}

/// The reply to `purge`, soft or not (a soft purge stops nothing).
public struct PurgeReply: ReplyDocument {
    public static let request = "purge"
    public var module: String
    /// The old version dropped; nil when the module had no old code.
    @Nullable public var purged: Int?
    /// What the purge stopped and cancelled.
    public var work: StoppedWork

    public init(module: String, purged: Int?, work: StoppedWork) {
        self.module = module
        self.purged = purged
        self.work = work
    }

    /// A soft purge's reply: it refuses rather than stops, so it names no process.
    public static func soft(module: String, purged: Int?) -> PurgeReply {
        PurgeReply(module: module, purged: purged, work: StoppedWork())
    }

    private enum CodingKeys: String, CodingKey { case module, purged }

    // `work`'s fields sit flat in this map (`StoppedWork`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        module = try container.decode(String.self, forKey: .module)
        _purged = try container.decode(Nullable<Int>.self, forKey: .purged)
        work = try StoppedWork(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(module, forKey: .module)
        try container.encode(_purged, forKey: .purged)
        try work.encode(to: encoder)
    }
}

/// The reply to `delete`: the version that is now old.
public struct DeleteReply: ReplyDocument {
    public static let request = "delete"
    public var module: String
    public var old: Int

    public init(module: String, old: Int) {
        self.module = module
        self.old = old
    }
}

/// The reply to `stage`: the staged file's name, a plain string.
public struct StageReply: BareReply {
    public static let request = "stage"
    public var file: String

    public init(file: String) { self.file = file }

    public init(value: String) { file = value }
    public var value: String { file }
}

/// The reply to `check`: the staged files that passed their trial load, a list of names.
public struct CheckReply: BareReply {
    public static let request = "check"
    public var files: [String]

    public init(files: [String]) { self.files = files }

    public init(value: [String]) { files = value }
    public var value: [String] { files }
}

/// The reply to `makePermanent`: the version each module now boots, a map.
public struct MakePermanentReply: BareReply {
    public static let request = "makePermanent"
    public var versions: [String: Int]

    public init(versions: [String: Int]) { self.versions = versions }

    public init(value: [String: Int]) { versions = value }
    public var value: [String: Int] { versions }
}

/// The reply to `compact`, sent by the process about to re-execute itself:
/// what it carries across and what it holds before. What the new process
/// holds after is in the status document's `lastCompaction`.
public struct CompactReply: ReplyDocument {
    public static let request = "compact"
    /// The node's name.
    public var node: String
    /// The process id, the same before and after: the node re-executes in place.
    public var pid: Int
    /// Each module's current version, the versions the new process loads.
    public var modules: [String: Int]
    /// The servers whose state and registered names cross, as pid strings.
    public var servers: [String]
    /// Plain processes stopped because the request asked to purge them (pid strings).
    public var stopped: [String]
    /// Tracked tasks cancelled because the request asked to purge them
    /// (`#3 ticker (hello v1)`); absent when none were, and from nodes that
    /// predate them.
    public var cancelledTasks: [String]?
    /// Versions mapped before: every load the node ever took, current, old or retained.
    public var versionsBefore: Int
    /// Resident bytes and lines of /proc/PID/maps before.
    public var residentBefore: Int
    public var mappingsBefore: Int

    public init(node: String, pid: Int, modules: [String: Int], servers: [String], stopped: [String], versionsBefore: Int,
                residentBefore: Int, mappingsBefore: Int, cancelledTasks: [String]? = nil) {
        self.cancelledTasks = cancelledTasks
        self.node = node
        self.pid = pid
        self.modules = modules
        self.servers = servers
        self.stopped = stopped
        self.versionsBefore = versionsBefore
        self.residentBefore = residentBefore
        self.mappingsBefore = mappingsBefore
    }
}

/// The reply to `ping`: the node's name.
public struct PingReply: BareReply {
    public static let request = "ping"
    public var node: String

    public init(value: String) { node = value }
    public var value: String { node }
}

/// The reply to `stop`, sent before the node stops: its name.
public struct StopReply: BareReply {
    public static let request = "stop"
    public var node: String

    public init(value: String) { node = value }
    public var value: String { node }
}

/// The reply to `call`: whatever the function returned.
public struct CallReply: BareReply {
    public static let request = "call"
    public var result: Term

    public init(value: Term) { result = value }
    public var value: Term { result }
}

/// The reply to `spawn`: the new process's pid.
public struct SpawnReply: BareReply {
    public static let request = "spawn"
    public var pid: Pid

    public init(value: Pid) { pid = value }
    public var value: Pid { pid }
}

/// The reply to `send`: the receiver's pid.
public struct SendReply: BareReply {
    public static let request = "send"
    public var pid: Pid

    public init(value: Pid) { pid = value }
    public var value: Pid { pid }
}
