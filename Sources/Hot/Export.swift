/// A function a module offers to external calls: a name, an arity and a body
/// over `Term`s. Typed Swift functions become exports through `Export.function`.
public struct Export: Sendable {
    /// The name callers use: `module:name`.
    public let name: String
    /// How many arguments the function takes; a call with another count is refused.
    public let arity: Int
    /// The function over terms; arguments are already checked for count.
    public let body: @Sendable ([Term]) throws -> Term
    /// The Swift function itself, for callers that know its type and skip
    /// terms altogether (`ExportTable.function`); nil for term-only exports.
    public let typed: (any Sendable)?
    /// For a function of one argument, the body over that argument alone: a
    /// caller with one argument then builds no argument array.
    public let unary: (@Sendable (Term) throws -> Term)?
    /// Whether the function is `async` (`typed` is then an async closure).
    public let isAsync: Bool
    /// For an async function whose types are all Codable, its body over
    /// terms, which the node runs in a task of its own (its `body` only
    /// refuses); nil for sync functions and for async ones only a typed
    /// handle can call.
    public let asyncBody: (@Sendable ([Term]) async throws -> Term)?

    /// An export over raw terms, for functions that take any shape.
    public init(name: String, arity: Int, body: @escaping @Sendable ([Term]) throws -> Term) {
        self.init(name: name, arity: arity, typed: nil, body: body)
    }

    init(name: String, arity: Int, typed: (any Sendable)?, body: @escaping @Sendable ([Term]) throws -> Term) {
        self.name = name
        self.arity = arity
        self.typed = typed
        self.body = body
        self.unary = nil
        self.isAsync = false
        self.asyncBody = nil
    }

    /// An async function: its sync body refuses, and the node calls `asyncBody` (when there is one) instead.
    init(name: String, arity: Int, typed: any Sendable, asyncBody: (@Sendable ([Term]) async throws -> Term)?) {
        self.name = name
        self.arity = arity
        self.typed = typed
        self.unary = nil
        self.isAsync = true
        self.asyncBody = asyncBody
        let reason = asyncBody == nil
            ? "its argument or result types are not Codable, so only a typed handle (ExportTable.function) can call it"
            : "it is async; the node runs it in a task"
        self.body = { _ in throw CallError.notCallable(function: name, reason: reason) }
    }

    /// A function of one argument, with both bodies made from the one over the argument.
    init(name: String, typed: (any Sendable)?, unary: @escaping @Sendable (Term) throws -> Term) {
        self.name = name
        self.arity = 1
        self.typed = typed
        self.unary = unary
        self.body = { args in try unary(args[0]) }
        self.isAsync = false
        self.asyncBody = nil
    }
}

/// Why an external call did not reach a result.
public enum CallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The module is not loaded, or was deleted (Erlang's `undef`).
    case undefinedModule(String)
    /// The module is loaded but exports no such function.
    case undefinedFunction(module: String, function: String)
    /// The call passed another number of arguments than the function takes.
    case wrongArity(function: String, expected: Int, got: Int)
    /// An argument did not convert to the parameter's type.
    case badArgument(function: String, index: Int, reason: String)
    /// The function threw; the message is its error's description.
    case raised(function: String, message: String)
    /// The function cannot be called this way (an async export over terms
    /// whose types are not Codable, or from inside a task).
    case notCallable(function: String, reason: String)

    public var description: String {
        switch self {
        case .undefinedModule(let m):
            "undefined: module '\(m)' is not loaded"
        case .undefinedFunction(let m, let f):
            "undefined: '\(m)' exports no function '\(f)'"
        case .wrongArity(let f, let expected, let got):
            "'\(f)' takes \(expected) argument\(expected == 1 ? "" : "s"), got \(got)"
        case .badArgument(let f, let index, let reason):
            "argument \(index + 1) of '\(f)': \(reason)"
        case .raised(let f, let message):
            "'\(f)' threw: \(message)"
        case .notCallable(let f, let reason):
            "'\(f)' cannot be called this way: \(reason)"
        }
    }
}

extension Export {
    /// Exports a function of no arguments.
    public static func function<R: Encodable & SendableMetatype>(
        _ name: String, _ f: @escaping @Sendable () throws -> R
    ) -> Export {
        let encode = termEncoder(R.self)
        return Export(name: name, arity: 0, typed: f) { _ in try encode(f()) }
    }

    /// Exports a function of one argument; the argument decodes from its term.
    public static func function<A: Decodable & SendableMetatype, R: Encodable & SendableMetatype>(
        _ name: String, _ f: @escaping @Sendable (A) throws -> R
    ) -> Export {
        if let unary = fastUnary(name, f) { return Export(name: name, typed: f, unary: unary) }
        let (decodeA, encode) = (termDecoder(A.self), termEncoder(R.self))
        return Export(name: name, typed: f) { term in
            let a = try argument(decodeA, term, 0, name)
            return try encode(f(a))
        }
    }

    /// Exports a function of two arguments.
    public static func function<A: Decodable & SendableMetatype, B: Decodable & SendableMetatype, R: Encodable & SendableMetatype>(
        _ name: String, _ f: @escaping @Sendable (A, B) throws -> R
    ) -> Export {
        if let body = fastBody(name, f) { return Export(name: name, arity: 2, typed: f, body: body) }
        let (decodeA, decodeB, encode) = (termDecoder(A.self), termDecoder(B.self), termEncoder(R.self))
        return Export(name: name, arity: 2, typed: f) { args in
            let a = try argument(decodeA, args, 0, name)
            let b = try argument(decodeB, args, 1, name)
            return try encode(f(a, b))
        }
    }

    /// Exports a function of three arguments.
    public static func function<A: Decodable & SendableMetatype, B: Decodable & SendableMetatype, C: Decodable & SendableMetatype, R: Encodable & SendableMetatype>(
        _ name: String, _ f: @escaping @Sendable (A, B, C) throws -> R
    ) -> Export {
        let (decodeA, decodeB, decodeC, encode) = (termDecoder(A.self), termDecoder(B.self), termDecoder(C.self), termEncoder(R.self))
        return Export(name: name, arity: 3, typed: f) { args in
            let a = try argument(decodeA, args, 0, name)
            let b = try argument(decodeB, args, 1, name)
            let c = try argument(decodeC, args, 2, name)
            return try encode(f(a, b, c))
        }
    }
}

extension Export {
    /// Exports an async function of no arguments. Any result type: when it
    /// is Encodable, `hot call` reaches it too (the node runs it in a task);
    /// else only a typed handle does.
    public static func function<R>(_ name: String, _ f: @escaping @Sendable () async throws -> R) -> Export {
        let body = asyncEncoder(R.self).map { encode in { @Sendable (_: [Term]) async throws -> Term in try encode(await f()) } }
        return Export(name: name, arity: 0, typed: f, asyncBody: body)
    }

    /// Exports an async function of one argument (a request handler, say);
    /// any types, as for the function of no arguments.
    public static func function<A, R>(_ name: String, _ f: @escaping @Sendable (A) async throws -> R) -> Export {
        var body: (@Sendable ([Term]) async throws -> Term)?
        if let decodeA = asyncDecoder(A.self), let encode = asyncEncoder(R.self) {
            body = { args in try encode(await f(argument(decodeA, args, 0, name))) }
        }
        return Export(name: name, arity: 1, typed: f, asyncBody: body)
    }

    /// Exports an async function of two arguments (a request and its context, say).
    public static func function<A, B, R>(_ name: String, _ f: @escaping @Sendable (A, B) async throws -> R) -> Export {
        var body: (@Sendable ([Term]) async throws -> Term)?
        if let decodeA = asyncDecoder(A.self), let decodeB = asyncDecoder(B.self), let encode = asyncEncoder(R.self) {
            body = { args in try encode(await f(argument(decodeA, args, 0, name), argument(decodeB, args, 1, name))) }
        }
        return Export(name: name, arity: 2, typed: f, asyncBody: body)
    }

    /// Exports an async function of three arguments.
    public static func function<A, B, C, R>(_ name: String, _ f: @escaping @Sendable (A, B, C) async throws -> R) -> Export {
        var body: (@Sendable ([Term]) async throws -> Term)?
        if let decodeA = asyncDecoder(A.self), let decodeB = asyncDecoder(B.self), let decodeC = asyncDecoder(C.self),
            let encode = asyncEncoder(R.self)
        {
            body = { args in
                try encode(await f(argument(decodeA, args, 0, name), argument(decodeB, args, 1, name), argument(decodeC, args, 2, name)))
            }
        }
        return Export(name: name, arity: 3, typed: f, asyncBody: body)
    }
}

/// A term decoder for `T` when it is Decodable, found when the export is
/// made; nil when it is not (the async export is then typed-only).
private func asyncDecoder<T>(_ type: T.Type) -> (@Sendable (Term) throws -> T)? {
    guard let decodable = T.self as? any (Decodable & SendableMetatype).Type else { return nil }
    func open<D: Decodable & SendableMetatype>(_: D.Type) -> Any { termDecoder(D.self) }
    return open(decodable) as? @Sendable (Term) throws -> T
}

/// A term encoder for `T` when it is Encodable; nil when it is not.
private func asyncEncoder<T>(_ type: T.Type) -> (@Sendable (T) throws -> Term)? {
    guard let encodable = T.self as? any (Encodable & SendableMetatype).Type else { return nil }
    func open<E: Encodable & SendableMetatype>(_: E.Type) -> Any { termEncoder(E.self) }
    return open(encodable) as? @Sendable (T) throws -> Term
}

/// Converts one argument, turning a decoding failure into `badArgument` so the
/// caller learns which argument was wrong rather than a bare decoding error.
@inline(__always)
private func argument<T>(_ decode: (Term) throws -> T, _ args: [Term], _ index: Int, _ name: String) throws -> T {
    try argument(decode, args[index], index, name)
}

@inline(__always)
private func argument<T>(_ decode: (Term) throws -> T, _ term: Term, _ index: Int, _ name: String) throws -> T {
    do {
        return try decode(term)
    } catch {
        throw CallError.badArgument(function: name, index: index, reason: "\(error)")
    }
}

/// The body of `(A) -> R` when both types convert to terms directly: one
/// closure that converts, calls and converts back. The general body goes
/// through a closure per conversion and cost twice as many instructions
/// (callgrind).
private func fastUnary<A, R>(_ name: String, _ f: @escaping @Sendable (A) throws -> R) -> (@Sendable (Term) throws -> Term)? {
    guard let a = fastPath(A.self), let r = fastPath(R.self) else { return nil }
    func open<FA: TermFastPath, FR: TermFastPath>(_: FA.Type, _: FR.Type) -> @Sendable (Term) throws -> Term {
        // A is FA and R is FR, so the cast only names the types the checks found.
        let f = f as! @Sendable (FA) throws -> FR
        return { term in try f(argument(FA.fromTerm, term, 0, name)).asTerm }
    }
    return open(a, r)
}

/// The body of `(A, B) -> R` when all three types convert to terms directly.
private func fastBody<A, B, R>(_ name: String, _ f: @escaping @Sendable (A, B) throws -> R) -> (@Sendable ([Term]) throws -> Term)? {
    guard let a = fastPath(A.self), let b = fastPath(B.self), let r = fastPath(R.self) else { return nil }
    func open<FA: TermFastPath, FB: TermFastPath, FR: TermFastPath>(_: FA.Type, _: FB.Type, _: FR.Type) -> @Sendable ([Term]) throws -> Term {
        let f = f as! @Sendable (FA, FB) throws -> FR
        return { args in try f(argument(FA.fromTerm, args, 0, name), argument(FB.fromTerm, args, 1, name)).asTerm }
    }
    return open(a, b, r)
}
