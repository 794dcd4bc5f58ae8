/// A value the node keeps for a module, by key, across reloads: the node's
/// kept state (docs/RELOADING.md, "The node's kept state").
///
/// A module's globals and statics belong to the version that declared them:
/// the next version has its own, fresh. What must outlive a version lives
/// in the node instead, as a `Term`, since a version's Swift types are its
/// own and cannot cross to the next one: each access decodes the term as the
/// calling version's `Value` and encodes what it leaves. Declare one at the
/// top level of the module; the declaration is per version, the value is
/// the node's:
///
/// ```swift
/// let hits = Kept("hits", default: 0)
///
/// func hit() throws -> Int {
///     try hits.withValue { count in
///         count += 1
///         return count
///     }
/// }
/// ```
///
/// The module comes from `#fileID` (`counter_v3/counter.swift` keeps under
/// `counter`), so every version of a module reaches the same values. The
/// node keeps them in memory across loads, purges and compactions, and
/// drops a module's once it has no version left (deleted, then purged); a
/// restart of the node starts without them.
public struct Kept<Value: Codable & Sendable & SendableMetatype>: Sendable {
    /// The module whose value this is.
    public let module: String
    /// The value's key in its module.
    public let key: String
    private let initial: Value
    private let migrate: (@Sendable (Term) throws -> Value)?
    private let decode: @Sendable (Term) throws -> Value
    private let encode: @Sendable (Value) throws -> Term

    /// The value kept under `key` for the calling module; `initial` until
    /// something is stored. When what is stored does not decode as `Value`
    /// (an earlier version kept another shape), `migrate` makes this
    /// version's value from the stored term, as a server's `codeChange`
    /// does; without it, or when it throws, the access throws
    /// `KeptError.undecodable` and the stored term stays as it was, for a
    /// later version to read (or `reset()` to drop).
    public init(
        _ key: String, default initial: Value, migrate: (@Sendable (Term) throws -> Value)? = nil, fileID: String = #fileID
    ) {
        self.module = CallSite(fileID: fileID, line: 0).module
        self.key = key
        self.initial = initial
        self.migrate = migrate
        self.decode = termDecoder(Value.self)
        self.encode = termEncoder(Value.self)
    }

    /// Runs `body` on the value, with every other access to this key waiting
    /// (the node holds the key's lock), and keeps what `body` leaves. `body`
    /// must not reach the same key again: the lock is not reentrant.
    public func withValue<R>(_ body: (inout Value) throws -> R) throws -> R {
        try withValue(on: Runtime.current(), body)
    }

    /// `withValue` on a given runtime rather than the node's.
    func withValue<R>(on runtime: any NodeRuntime, _ body: (inout Value) throws -> R) throws -> R {
        try runtime.withKept(module, key) { stored in
            var value = try read(stored)
            let result = try body(&value)
            stored = try encode(value)
            return result
        }
    }

    /// The value now.
    public var value: Value {
        get throws { try withValue { $0 } }
    }

    /// Replaces the value.
    public func set(_ newValue: Value) throws {
        try withValue { $0 = newValue }
    }

    /// Drops what is stored: the next access sees the default again.
    public func reset() throws {
        try reset(on: Runtime.current())
    }

    func reset(on runtime: any NodeRuntime) throws {
        try runtime.withKept(module, key) { stored in stored = nil }
    }

    private func read(_ stored: Term?) throws -> Value {
        guard let stored else { return initial }
        do {
            return try decode(stored)
        } catch let direct {
            guard let migrate else { throw KeptError.undecodable(module: module, key: key, reason: "\(direct)") }
            do {
                return try migrate(stored)
            } catch {
                throw KeptError.undecodable(module: module, key: key, reason: "migrate threw: \(error)")
            }
        }
    }
}

/// Why a kept value could not be read.
public enum KeptError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is stored does not decode as this version's type, and no
    /// `migrate` made a value of it; the stored term is left as it was.
    case undecodable(module: String, key: String, reason: String)
    /// The module keeps as many keys as the node allows, and this is a new one.
    case tooManyKeys(module: String, key: String, limit: Int)

    public var description: String {
        switch self {
        case .undecodable(let module, let key, let reason):
            "the value \(module) keeps under '\(key)' does not decode as this version's type (\(reason)); give Kept a migrate closure, or reset() it (docs/RELOADING.md)"
        case .tooManyKeys(let module, let key, let limit):
            "\(module) keeps \(limit) keys already, the node's limit, so '\(key)' cannot be kept; keep one value per purpose (a dictionary under one key), not one key per item"
        }
    }
}
