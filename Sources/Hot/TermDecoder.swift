/// Converts `Term`s back into `Decodable` values, the inverse of `TermEncoder`.
public struct TermDecoder {
    /// Creates a decoder; it has no options because `Term` has one shape per Swift value.
    public init() {}

    /// Decodes a `T` from `term`, or throws `TermDecodingError`.
    public func decode<T: Decodable>(_ type: T.Type, from term: Term) throws -> T {
        do {
            return try decodeTerm(type, from: term, path: [])
        } catch let error as DecodingError {
            // Synthesized and stdlib conformances throw DecodingError (e.g. an unknown raw
            // value); callers get one closed error type whichever layer threw.
            throw TermDecodingError(error)
        }
    }
}

/// Why a term could not become the requested value.
public enum TermDecodingError: Error, Equatable, CustomStringConvertible {
    /// The term at `path` has the wrong case, e.g. a string where an int was expected.
    case typeMismatch(expected: String, found: String, path: String)
    /// The map at `path` lacks a required key.
    case missingKey(String, path: String)
    /// An int (or double) does not fit the requested numeric type.
    case outOfRange(value: String, type: String, path: String)
    /// A list ran out of elements; `path` names the first missing index.
    case endOfList(count: Int, path: String)
    /// The term has the right case but a value the type rejects (e.g. an unknown enum raw value).
    case dataCorrupted(String, path: String)

    /// The coding path of the failure, rendered like `args[0].name`; empty at the top level.
    public var path: String {
        switch self {
        case .typeMismatch(_, _, let path), .missingKey(_, let path), .outOfRange(_, _, let path),
            .endOfList(_, let path), .dataCorrupted(_, let path):
            path
        }
    }

    /// One line naming the path and the problem.
    public var description: String {
        switch self {
        case .typeMismatch(let expected, let found, let path):
            "\(describePath(path)): expected \(expected), found \(found)"
        case .missingKey(let key, let path):
            "\(describePath(appendKey(key, to: path))): missing required key \"\(key)\""
        case .outOfRange(let value, let type, let path):
            "\(describePath(path)): \(value) is out of range for \(type)"
        case .endOfList(let count, let path):
            "\(describePath(path)): list ended after \(count) element\(count == 1 ? "" : "s")"
        case .dataCorrupted(let message, let path):
            "\(describePath(path)): \(message)"
        }
    }

    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(_, let context), .dataCorrupted(let context):
            // The stdlib's messages (e.g. "Invalid number of keys found, expected one.") say
            // more than the Swift type would, so they are kept verbatim.
            self = .dataCorrupted(context.debugDescription, path: renderPath(context.codingPath))
        case .valueNotFound(let type, let context):
            self = .typeMismatch(expected: "\(type)", found: "null", path: renderPath(context.codingPath))
        case .keyNotFound(let key, let context):
            self = .missingKey(key.stringValue, path: renderPath(context.codingPath))
        @unknown default:
            self = .dataCorrupted("\(error)", path: "")
        }
    }
}

extension Term {
    /// Decodes this term as a `T` with `TermDecoder`.
    public func decode<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try TermDecoder().decode(type, from: self)
    }
}

extension Term: Decodable {
    /// Takes the term as is under `TermDecoder`; other decoders are read structurally.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? TermDecoderImpl {
            self = decoder.term
            return
        }
        // A foreign decoder cannot say what it holds, so each shape is tried from the most
        // specific; ints before doubles keeps `1` an int.
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([String: Term].self) { self = .map(value) }
        else { self = .list(try container.decode([Term].self)) }
    }
}

extension Pid: Decodable {
    /// From `.pid` (or its string form) under `TermDecoder`; from the `<0.ID.0>` string otherwise.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? TermDecoderImpl {
            switch decoder.term {
            case .pid(let pid): self = pid; return
            case .string: break  // a peer that only speaks JSON sends the printed form
            default: throw mismatch("pid", decoder.term, decoder.codingPath)
            }
        }
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let pid = Pid(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a pid: \"\(text)\"")
        }
        self = pid
    }
}

// MARK: - Paths

/// Renders a coding path as `args[0].name`: indices in brackets, keys joined by dots.
func renderPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        // Stdlib index keys read "Index N" and Int-keyed dictionaries "N"; both are subscripts.
        if let index = key.intValue, key.stringValue == "Index \(index)" || key.stringValue == "\(index)" {
            out += "[\(index)]"
        } else {
            out = appendKey(key.stringValue, to: out)
        }
    }
    return out
}

func appendKey(_ key: String, to path: String) -> String { path.isEmpty ? key : path + "." + key }

func describePath(_ path: String) -> String { path.isEmpty ? "top level" : path }

// MARK: - Unboxing

func decodeTerm<T: Decodable>(_ type: T.Type, from term: Term, path: [any CodingKey]) throws -> T {
    // Compared by type, not cast: an empty [UInt8] would also cast to, say, [String].
    // A list of ints falls through to the ordinary array path, which range-checks each byte.
    if T.self == [UInt8].self, case .bytes(let bytes) = term, let value = bytes as? T { return value }
    return try T(from: TermDecoderImpl(term: term, codingPath: path))
}

func mismatch(_ expected: String, _ term: Term, _ path: [any CodingKey]) -> TermDecodingError {
    .typeMismatch(expected: expected, found: term.kind, path: renderPath(path))
}

func decodeBool(_ term: Term, _ path: [any CodingKey]) throws -> Bool {
    guard case .bool(let value) = term else { throw mismatch("bool", term, path) }
    return value
}

func decodeString(_ term: Term, _ path: [any CodingKey]) throws -> String {
    guard case .string(let value) = term else { throw mismatch("string", term, path) }
    return value
}

func decodeDouble(_ term: Term, _ path: [any CodingKey]) throws -> Double {
    switch term {
    case .double(let value): return value
    // JSON and Erlang peers write whole numbers as ints; a Double field should still take them.
    case .int(let value): return Double(value)
    default: throw mismatch("double", term, path)
    }
}

func decodeFloat(_ term: Term, _ path: [any CodingKey]) throws -> Float {
    let value = try decodeDouble(term, path)
    let float = Float(value)
    // Infinity and NaN pass through; only a finite double that overflows Float is lost.
    guard float.isFinite || !value.isFinite else {
        throw TermDecodingError.outOfRange(value: "\(value)", type: "Float", path: renderPath(path))
    }
    return float
}

func decodeInteger<I: FixedWidthInteger>(_ type: I.Type, _ term: Term, _ path: [any CodingKey]) throws -> I {
    guard case .int(let value) = term else { throw mismatch("int", term, path) }
    guard let result = I(exactly: value) else {
        throw TermDecodingError.outOfRange(value: "\(value)", type: "\(I.self)", path: renderPath(path))
    }
    return result
}

// MARK: - Decoder and containers

struct TermDecoderImpl: Decoder, SingleValueDecodingContainer {
    let term: Term
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .map(let fields) = term else { throw mismatch("map", term, codingPath) }
        return KeyedDecodingContainer(KeyedTermDecoder(fields: fields, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch term {
        case .list(let items): return UnkeyedTermDecoder(items: items, codingPath: codingPath)
        // Bytes read as a list of ints, so [Int] or a custom byte type can decode them too.
        case .bytes(let bytes): return UnkeyedTermDecoder(items: bytes.map { .int(Int($0)) }, codingPath: codingPath)
        default: throw mismatch("list", term, codingPath)
        }
    }

    func singleValueContainer() -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { term == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeBool(term, codingPath) }
    func decode(_ type: String.Type) throws -> String { try decodeString(term, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try decodeDouble(term, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try decodeFloat(term, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type, term, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: Int128.Type) throws -> Int128 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type, term, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type, term, codingPath) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeInteger(type, term, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeTerm(type, from: term, path: codingPath) }
}

struct KeyedTermDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: Term]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }
    private func term(_ key: Key) throws -> Term {
        guard let term = fields[key.stringValue] else {
            throw TermDecodingError.missingKey(key.stringValue, path: renderPath(codingPath))
        }
        return term
    }
    private func int<I: FixedWidthInteger>(_ type: I.Type, _ key: Key) throws -> I {
        try decodeInteger(type, term(key), path(key))
    }

    func decodeNil(forKey key: Key) throws -> Bool { try term(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeBool(term(key), path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeString(term(key), path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeDouble(term(key), path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeFloat(term(key), path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try int(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try int(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try int(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try int(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try int(type, key) }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try int(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try int(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try int(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try int(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try int(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try int(type, key) }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try int(type, key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeTerm(type, from: term(key), path: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try TermDecoderImpl(term: term(key), codingPath: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TermDecoderImpl(term: term(key), codingPath: path(key)).unkeyedContainer()
    }

    // An absent super key reads as null, as in JSONDecoder, so the superclass sees a missing value.
    func superDecoder() throws -> any Decoder {
        TermDecoderImpl(term: fields[TermKey.super.stringValue] ?? .null, codingPath: codingPath + [TermKey.super])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TermDecoderImpl(term: fields[key.stringValue] ?? .null, codingPath: path(key))
    }
}

struct UnkeyedTermDecoder: UnkeyedDecodingContainer {
    let items: [Term]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private func current() throws -> (Term, [any CodingKey]) {
        let path = codingPath + [TermKey(intValue: currentIndex)]
        guard currentIndex < items.count else {
            throw TermDecodingError.endOfList(count: items.count, path: renderPath(path))
        }
        return (items[currentIndex], path)
    }
    // Advances only on success, so a caller may retry the same element as another type.
    private mutating func next<T>(_ body: (Term, [any CodingKey]) throws -> T) throws -> T {
        let (term, path) = try current()
        let value = try body(term, path)
        currentIndex += 1
        return value
    }
    private mutating func int<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        try next { try decodeInteger(type, $0, $1) }
    }

    mutating func decodeNil() throws -> Bool {
        // Only a null is consumed; anything else stays for the caller's real decode.
        guard try current().0 == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(decodeBool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(decodeString) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(decodeDouble) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(decodeFloat) }
    mutating func decode(_ type: Int.Type) throws -> Int { try int(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try int(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try int(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try int(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try int(type) }
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try int(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try int(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try int(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try int(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try int(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try int(type) }
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try int(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next { try decodeTerm(type, from: $0, path: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next { try TermDecoderImpl(term: $0, codingPath: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next { try TermDecoderImpl(term: $0, codingPath: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next { TermDecoderImpl(term: $0, codingPath: $1) }
    }
}
