/// The value that crosses an external call, a message or the wire.
///
/// Erlang's terms, cut to what a Swift server needs: every argument and every
/// result of an exported function is a `Term`, and `Codable` values convert to
/// and from it (`TermEncoder`, `TermDecoder`), so module code stays typed.
public enum Term: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([Term])
    /// Keys are strings so that a map has one obvious JSON form.
    case map([String: Term])
    case pid(Pid)
}

/// A process identifier: unique within one node for the node's lifetime.
public struct Pid: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let id: UInt64

    public init(_ id: UInt64) { self.id = id }

    /// Erlang's shape, `<0.ID.0>`, so that a pid reads as one at a glance.
    public var description: String { "<0.\(id).0>" }

    /// Parses the form `description` prints; nil for anything else.
    public init?(parsing text: String) {
        guard text.hasPrefix("<0."), text.hasSuffix(".0>") else { return nil }
        let middle = text.dropFirst(3).dropLast(3)
        guard let id = UInt64(middle) else { return nil }
        self.id = id
    }

    public static func < (a: Pid, b: Pid) -> Bool { a.id < b.id }
}

extension Term {
    /// A short name of the case, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        case .list: "list"
        case .map: "map"
        case .pid: "pid"
        }
    }

    public subscript(key: String) -> Term? {
        if case .map(let fields) = self { return fields[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var listValue: [Term]? {
        if case .list(let l) = self { return l }
        return nil
    }
}

extension Term: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: Term...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Term)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
