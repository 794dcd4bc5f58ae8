/// Converts `Encodable` values into `Term`s: keyed containers become maps, unkeyed ones lists.
public struct TermEncoder {
    /// Creates an encoder; it has no options because `Term` has one shape per Swift value.
    public init() {}

    /// Encodes `value` as a term, or throws `TermEncodingError`.
    public func encode<T: Encodable>(_ value: T) throws -> Term {
        do {
            return try encodeTerm(value, path: [])
        } catch let error as EncodingError {
            // Callers get one closed error type whichever layer threw.
            throw TermEncodingError(error)
        }
    }
}

/// Why a value could not become a term.
public enum TermEncodingError: Error, Equatable, CustomStringConvertible {
    /// An integer does not fit `Term.int` (64-bit signed), e.g. a large `UInt64`.
    case outOfRange(value: String, type: String, path: String)
    /// A value's own `encode(to:)` rejected it (an `EncodingError.invalidValue`).
    case invalidValue(String, path: String)

    /// The coding path of the failing value, rendered like `args[0].name`; empty at the top level.
    public var path: String {
        switch self {
        case .outOfRange(_, _, let path), .invalidValue(_, let path): path
        }
    }

    /// One line naming the path and the problem.
    public var description: String {
        switch self {
        case .outOfRange(let value, let type, let path):
            "\(describePath(path)): \(type) \(value) does not fit a term int (64-bit signed)"
        case .invalidValue(let message, let path):
            "\(describePath(path)): invalid value: \(message)"
        }
    }

    init(_ error: EncodingError) {
        switch error {
        case .invalidValue(_, let context):
            self = .invalidValue(context.debugDescription, path: renderPath(context.codingPath))
        @unknown default:
            self = .invalidValue("\(error)", path: "")
        }
    }
}

extension Term {
    /// Encodes `value` with `TermEncoder`.
    public init<T: Encodable>(encoding value: T) throws {
        self = try TermEncoder().encode(value)
    }
}

extension Term: Encodable {
    /// Passes through unchanged under `TermEncoder`; other encoders get the structural form.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? TermEncoderImpl {
            encoder.slot.node = .term(self)
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        // Ints rather than [UInt8], so a foreign encoder cannot pick its own byte format.
        case .bytes(let value): try container.encode(value.map(Int.init))
        case .list(let value): try container.encode(value)
        case .map(let value): try container.encode(value)
        case .pid(let value): try container.encode(value.description)
        }
    }
}

extension Pid: Encodable {
    /// `.pid` under `TermEncoder`; the `<0.ID.0>` string for other encoders.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? TermEncoderImpl {
            encoder.slot.node = .term(.pid(self))
            return
        }
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

// MARK: - Storage

// Containers hand out nested containers and super-encoders that are written
// after they are created, so the tree is built from references and flattened
// into a `Term` once the outermost `encode(to:)` returns.
final class MapBuffer { var fields: [String: EncodingNode] = [:] }
final class ListBuffer { var items: [EncodingNode] = [] }
final class EncodingSlot { var node: EncodingNode? }

enum EncodingNode {
    case term(Term)
    case map(MapBuffer)
    case list(ListBuffer)
    case slot(EncodingSlot)

    var resolved: Term {
        switch self {
        case .term(let term): term
        case .map(let buffer): .map(buffer.fields.mapValues(\.resolved))
        case .list(let buffer): .list(buffer.items.map(\.resolved))
        // A super-encoder nobody wrote to stands for an empty object, as in JSONEncoder.
        case .slot(let slot): slot.node?.resolved ?? .map([:])
        }
    }
}

/// A coding key for list indices and `super`, which have no user-declared key type.
struct TermKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = "Index \(intValue)"; self.intValue = intValue }
    static let `super` = TermKey(stringValue: "super")
}

func encodeTerm<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> Term {
    // Checked by type, not by cast: an empty [Int] would also cast to [UInt8].
    if T.self == [UInt8].self, let bytes = value as? [UInt8] { return .bytes(bytes) }
    let encoder = TermEncoderImpl(slot: EncodingSlot(), codingPath: path)
    try value.encode(to: encoder)
    // A value that wrote nothing (an empty struct may) is an empty map, like JSON's `{}`.
    return encoder.slot.node?.resolved ?? .map([:])
}

func encodeInteger<I: BinaryInteger>(_ value: I, path: [any CodingKey]) throws -> Term {
    guard let int = Int(exactly: value) else {
        throw TermEncodingError.outOfRange(value: "\(value)", type: "\(I.self)", path: renderPath(path))
    }
    return .int(int)
}

// MARK: - Encoder and containers

final class TermEncoderImpl: Encoder, SingleValueEncodingContainer {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(slot: EncodingSlot, codingPath: [any CodingKey]) {
        self.slot = slot
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // Asking twice must return the same storage, so that both writers land in one map.
        if case .map(let buffer) = slot.node {
            return KeyedEncodingContainer(KeyedTermEncoder(buffer: buffer, codingPath: codingPath))
        }
        let buffer = MapBuffer()
        slot.node = .map(buffer)
        return KeyedEncodingContainer(KeyedTermEncoder(buffer: buffer, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .list(let buffer) = slot.node {
            return UnkeyedTermEncoder(buffer: buffer, codingPath: codingPath)
        }
        let buffer = ListBuffer()
        slot.node = .list(buffer)
        return UnkeyedTermEncoder(buffer: buffer, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    private func put(_ term: Term) { slot.node = .term(term) }
    func encodeNil() throws { put(.null) }
    func encode(_ value: Bool) throws { put(.bool(value)) }
    func encode(_ value: String) throws { put(.string(value)) }
    func encode(_ value: Double) throws { put(.double(value)) }
    func encode(_ value: Float) throws { put(.double(Double(value))) }
    func encode(_ value: Int) throws { put(.int(value)) }
    func encode(_ value: Int8) throws { put(.int(Int(value))) }
    func encode(_ value: Int16) throws { put(.int(Int(value))) }
    func encode(_ value: Int32) throws { put(.int(Int(value))) }
    func encode(_ value: Int64) throws { put(.int(Int(value))) }
    func encode(_ value: Int128) throws { put(try encodeInteger(value, path: codingPath)) }
    func encode(_ value: UInt) throws { put(try encodeInteger(value, path: codingPath)) }
    func encode(_ value: UInt8) throws { put(.int(Int(value))) }
    func encode(_ value: UInt16) throws { put(.int(Int(value))) }
    func encode(_ value: UInt32) throws { put(.int(Int(value))) }
    func encode(_ value: UInt64) throws { put(try encodeInteger(value, path: codingPath)) }
    func encode(_ value: UInt128) throws { put(try encodeInteger(value, path: codingPath)) }
    func encode<T: Encodable>(_ value: T) throws { put(try encodeTerm(value, path: codingPath)) }
}

struct KeyedTermEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let buffer: MapBuffer
    let codingPath: [any CodingKey]

    private func put(_ term: Term, _ key: Key) { buffer.fields[key.stringValue] = .term(term) }
    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }
    private func int<I: BinaryInteger>(_ value: I, _ key: Key) throws {
        put(try encodeInteger(value, path: path(key)), key)
    }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(.double(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.int(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try int(value, key) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try int(value, key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(try encodeTerm(value, path: path(key)), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: MapBuffer
        if case .map(let existing) = buffer.fields[key.stringValue] {
            nested = existing
        } else {
            nested = MapBuffer()
            buffer.fields[key.stringValue] = .map(nested)
        }
        return KeyedEncodingContainer(KeyedTermEncoder<NestedKey>(buffer: nested, codingPath: path(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: ListBuffer
        if case .list(let existing) = buffer.fields[key.stringValue] {
            nested = existing
        } else {
            nested = ListBuffer()
            buffer.fields[key.stringValue] = .list(nested)
        }
        return UnkeyedTermEncoder(buffer: nested, codingPath: path(key))
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: TermKey.super) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let slot = EncodingSlot()
        buffer.fields[key.stringValue] = .slot(slot)
        return TermEncoderImpl(slot: slot, codingPath: codingPath + [key])
    }
}

struct UnkeyedTermEncoder: UnkeyedEncodingContainer {
    let buffer: ListBuffer
    let codingPath: [any CodingKey]
    var count: Int { buffer.items.count }

    private var nextPath: [any CodingKey] { codingPath + [TermKey(intValue: count)] }
    private func put(_ term: Term) { buffer.items.append(.term(term)) }
    private func int<I: BinaryInteger>(_ value: I) throws { put(try encodeInteger(value, path: nextPath)) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(.double(value)) }
    mutating func encode(_ value: Float) throws { put(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { put(.int(value)) }
    mutating func encode(_ value: Int8) throws { try int(value) }
    mutating func encode(_ value: Int16) throws { try int(value) }
    mutating func encode(_ value: Int32) throws { try int(value) }
    mutating func encode(_ value: Int64) throws { try int(value) }
    mutating func encode(_ value: Int128) throws { try int(value) }
    mutating func encode(_ value: UInt) throws { try int(value) }
    mutating func encode(_ value: UInt8) throws { try int(value) }
    mutating func encode(_ value: UInt16) throws { try int(value) }
    mutating func encode(_ value: UInt32) throws { try int(value) }
    mutating func encode(_ value: UInt64) throws { try int(value) }
    mutating func encode(_ value: UInt128) throws { try int(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { put(try encodeTerm(value, path: nextPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = MapBuffer()
        let path = nextPath
        buffer.items.append(.map(nested))
        return KeyedEncodingContainer(KeyedTermEncoder<NestedKey>(buffer: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ListBuffer()
        let path = nextPath
        buffer.items.append(.list(nested))
        return UnkeyedTermEncoder(buffer: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let slot = EncodingSlot()
        let path = nextPath
        buffer.items.append(.slot(slot))
        return TermEncoderImpl(slot: slot, codingPath: path)
    }
}
