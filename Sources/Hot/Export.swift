/// A function a module offers to external calls: a name, an arity and a body
/// over `Term`s. Typed Swift functions become exports through `Export.function`.
public struct Export: Sendable {
    /// The name callers use: `module:name`.
    public let name: String
    /// How many arguments the function takes; a call with another count is refused.
    public let arity: Int
    /// The function over terms; arguments are already checked for count.
    public let body: @Sendable ([Term]) throws -> Term

    /// An export over raw terms, for functions that take any shape.
    public init(name: String, arity: Int, body: @escaping @Sendable ([Term]) throws -> Term) {
        self.name = name
        self.arity = arity
        self.body = body
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
        }
    }
}

extension Export {
    /// Exports a function of no arguments.
    public static func function<R: Encodable>(
        _ name: String, _ f: @escaping @Sendable () throws -> R
    ) -> Export {
        Export(name: name, arity: 0) { _ in try TermEncoder().encode(f()) }
    }

    /// Exports a function of one argument; the argument decodes from its term.
    public static func function<A: Decodable, R: Encodable>(
        _ name: String, _ f: @escaping @Sendable (A) throws -> R
    ) -> Export {
        Export(name: name, arity: 1) { args in
            let a = try argument(A.self, args, 0, name)
            return try TermEncoder().encode(f(a))
        }
    }

    /// Exports a function of two arguments.
    public static func function<A: Decodable, B: Decodable, R: Encodable>(
        _ name: String, _ f: @escaping @Sendable (A, B) throws -> R
    ) -> Export {
        Export(name: name, arity: 2) { args in
            let a = try argument(A.self, args, 0, name)
            let b = try argument(B.self, args, 1, name)
            return try TermEncoder().encode(f(a, b))
        }
    }

    /// Exports a function of three arguments.
    public static func function<A: Decodable, B: Decodable, C: Decodable, R: Encodable>(
        _ name: String, _ f: @escaping @Sendable (A, B, C) throws -> R
    ) -> Export {
        Export(name: name, arity: 3) { args in
            let a = try argument(A.self, args, 0, name)
            let b = try argument(B.self, args, 1, name)
            let c = try argument(C.self, args, 2, name)
            return try TermEncoder().encode(f(a, b, c))
        }
    }
}

/// Converts one argument, turning a decoding failure into `badArgument` so the
/// caller learns which argument was wrong rather than a bare decoding error.
private func argument<T: Decodable>(_ type: T.Type, _ args: [Term], _ index: Int, _ name: String) throws -> T {
    do {
        return try TermDecoder().decode(T.self, from: args[index])
    } catch {
        throw CallError.badArgument(function: name, index: index, reason: "\(error)")
    }
}
