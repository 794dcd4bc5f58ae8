/// Types that convert to and from `Term` without going through Codable's
/// containers: the common argument and result types of exports. An export is
/// built once and called millions of times, so it picks its converters when
/// it is built, and a call of `(Int) -> Int` costs two switches, not two
/// encoder allocations.
protocol TermFastPath: SendableMetatype {
    static func fromTerm(_ term: Term) throws -> Self
    var asTerm: Term { get }
}

extension Int: TermFastPath {
    static func fromTerm(_ term: Term) throws -> Int {
        guard case .int(let value) = term else {
            throw TermDecodingError.typeMismatch(expected: "int", found: term.kind, path: "")
        }
        return value
    }
    var asTerm: Term { .int(self) }
}

extension String: TermFastPath {
    static func fromTerm(_ term: Term) throws -> String {
        guard case .string(let value) = term else {
            throw TermDecodingError.typeMismatch(expected: "string", found: term.kind, path: "")
        }
        return value
    }
    var asTerm: Term { .string(self) }
}

extension Double: TermFastPath {
    static func fromTerm(_ term: Term) throws -> Double {
        switch term {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: throw TermDecodingError.typeMismatch(expected: "double", found: term.kind, path: "")
        }
    }
    var asTerm: Term { .double(self) }
}

extension Bool: TermFastPath {
    static func fromTerm(_ term: Term) throws -> Bool {
        guard case .bool(let value) = term else {
            throw TermDecodingError.typeMismatch(expected: "bool", found: term.kind, path: "")
        }
        return value
    }
    var asTerm: Term { .bool(self) }
}

extension Term: TermFastPath {
    static func fromTerm(_ term: Term) throws -> Term { term }
    var asTerm: Term { self }
}

/// The fast path of `T`, found by comparing types, never by asking the
/// runtime whether `T` conforms: that question, for a type it has not seen,
/// scans the conformance records of every image in the process, and every
/// version of a module brings types not seen before, so each load paid for
/// all the versions before it (BENCHMARKS.md, figure 12).
func fastPath<T>(_: T.Type) -> (any TermFastPath.Type)? {
    if T.self == Int.self { return Int.self }
    if T.self == String.self { return String.self }
    if T.self == Double.self { return Double.self }
    if T.self == Bool.self { return Bool.self }
    if T.self == Term.self { return Term.self }
    return nil
}

/// Converts terms to `T`: the fast path when `T` has one, else `TermDecoder`.
func termDecoder<T: Decodable & SendableMetatype>(_ type: T.Type) -> @Sendable (Term) throws -> T {
    if let fast = fastPath(T.self) {
        func open<C: TermFastPath>(_: C.Type) -> Any { { @Sendable (term: Term) throws -> C in try C.fromTerm(term) } }
        if let decode = open(fast) as? @Sendable (Term) throws -> T { return decode }
    }
    return { term in try TermDecoder().decode(T.self, from: term) }
}

/// Converts `T` to terms: the fast path when `T` has one, else `TermEncoder`.
func termEncoder<T: Encodable & SendableMetatype>(_ type: T.Type) -> @Sendable (T) throws -> Term {
    if let fast = fastPath(T.self) {
        func open<C: TermFastPath>(_: C.Type) -> Any { { @Sendable (value: C) throws -> Term in value.asTerm } }
        if let encode = open(fast) as? @Sendable (T) throws -> Term { return encode }
    }
    return { value in try TermEncoder().encode(value) }
}
