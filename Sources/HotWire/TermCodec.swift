import Hot
import HotPlatform

/// The compact binary form of `Term` used on the wire.
///
/// Every value starts with one tag byte:
///
/// | tag | case          | payload after the tag                                        |
/// |-----|---------------|--------------------------------------------------------------|
/// | 0   | `.null`       | nothing                                                      |
/// | 1   | `.bool(false)`| nothing                                                      |
/// | 2   | `.bool(true)` | nothing                                                      |
/// | 3   | `.int`        | zigzag LEB128 varint                                         |
/// | 4   | `.double`     | 8 bytes, IEEE 754 bit pattern, little-endian                 |
/// | 5   | `.string`     | varint byte count, then that many bytes of UTF-8             |
/// | 6   | `.bytes`      | varint byte count, then the bytes                            |
/// | 7   | `.list`       | varint item count, then each item as a tagged value          |
/// | 8   | `.map`        | varint pair count, then per pair: key (varint byte count +   |
/// |     |               | UTF-8, no tag) followed by the value as a tagged value       |
/// | 9   | `.pid`        | varint id (unsigned LEB128)                                  |
///
/// Varints are unsigned LEB128, low 7 bits first, at most 10 bytes. Map keys are
/// written in sorted order so equal terms encode to equal bytes (hashes, signatures,
/// caches); the decoder accepts any order but rejects a repeated key, so one byte
/// string never means two different maps. Containers nest at most `maxDepth` deep.
public enum TermCodec {
    /// Containers nested deeper than this are rejected on decode, bounding recursion on hostile input.
    public static let maxDepth = 128

    /// Tag bytes, named for readability; see the table above.
    enum Tag {
        static let null: UInt8 = 0, falseValue: UInt8 = 1, trueValue: UInt8 = 2, int: UInt8 = 3
        static let double: UInt8 = 4, string: UInt8 = 5, bytes: UInt8 = 6, list: UInt8 = 7
        static let map: UInt8 = 8, pid: UInt8 = 9
    }

    /// A hostile count only bounds what we pre-reserve up to this; beyond it arrays grow as items
    /// actually arrive, so nested containers cannot each reserve the whole input's worth.
    static let reserveLimit = 1024

    // MARK: Encoding

    /// Appends the encoding of `term` to `buffer`, so frames can be built without copies.
    public static func encode(_ term: Term, into buffer: inout [UInt8]) {
        switch term {
        case .null: buffer.append(Tag.null)
        case .bool(let b): buffer.append(b ? Tag.trueValue : Tag.falseValue)
        case .int(let i):
            buffer.append(Tag.int)
            appendVarint(zigzag(i), to: &buffer)
        case .double(let d):
            buffer.append(Tag.double)
            let bits = d.bitPattern
            for shift in stride(from: 0, to: 64, by: 8) { buffer.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        case .string(let s):
            buffer.append(Tag.string)
            appendString(s, to: &buffer)
        case .bytes(let data):
            buffer.append(Tag.bytes)
            appendVarint(UInt64(data.count), to: &buffer)
            buffer.append(contentsOf: data)
        case .list(let items):
            buffer.append(Tag.list)
            appendVarint(UInt64(items.count), to: &buffer)
            for item in items { encode(item, into: &buffer) }
        case .map(let fields):
            buffer.append(Tag.map)
            appendVarint(UInt64(fields.count), to: &buffer)
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                appendString(key, to: &buffer)
                encode(value, into: &buffer)
            }
        case .pid(let pid):
            buffer.append(Tag.pid)
            appendVarint(pid.id, to: &buffer)
        }
    }

    /// Returns the encoding of `term` as a fresh buffer.
    public static func encode(_ term: Term) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        encode(term, into: &buffer)
        return buffer
    }

    /// Appends `value` as an unsigned LEB128 varint (1 to 10 bytes).
    public static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    /// Appends a string as varint byte count plus UTF-8, the untagged form map keys use.
    public static func appendString(_ string: String, to buffer: inout [UInt8]) {
        let utf8 = string.utf8
        appendVarint(UInt64(utf8.count), to: &buffer)
        buffer.append(contentsOf: utf8)
    }

    /// Zigzag keeps small negative numbers short: 0, -1, 1, -2 ... map to 0, 1, 2, 3 ...
    static func zigzag(_ value: Int) -> UInt64 {
        let v = Int64(value)
        return UInt64(bitPattern: (v << 1) ^ (v >> 63))
    }

    static func unzigzag(_ value: UInt64) -> Int {
        Int(truncatingIfNeeded: Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1))
    }

    // MARK: Decoding

    /// Decodes exactly one term that must span all of `bytes`. A message
    /// wrapping a payload passes `maxDepth` plus its own levels, so that the
    /// payload keeps the full documented depth.
    public static func decode(_ bytes: [UInt8], maxDepth: Int = maxDepth) throws(TermCodecError) -> Term {
        var reader = ByteReader(bytes)
        let term = try decode(from: &reader, maxDepth: maxDepth)
        guard reader.isAtEnd else { throw .trailingBytes(count: reader.remaining) }
        return term
    }

    /// Decodes one term at the reader's position and leaves the reader just past it.
    public static func decode(from reader: inout ByteReader, maxDepth: Int = maxDepth) throws(TermCodecError) -> Term {
        try decodeValue(from: &reader, depth: 0, limit: maxDepth)
    }

    /// How many containers nest in `term` (0 for a scalar, 1 for `[1]`), the
    /// measure `maxDepth` bounds.
    public static func depth(of term: Term) -> Int {
        switch term {
        case .list(let items): 1 + (items.lazy.map(depth(of:)).max() ?? 0)
        case .map(let fields): 1 + (fields.values.lazy.map(depth(of:)).max() ?? 0)
        default: 0
        }
    }

    static func decodeValue(from reader: inout ByteReader, depth: Int, limit: Int) throws(TermCodecError) -> Term {
        let tagOffset = reader.offset
        let tag = try reader.readByte()
        switch tag {
        case Tag.null: return .null
        case Tag.falseValue: return .bool(false)
        case Tag.trueValue: return .bool(true)
        case Tag.int: return .int(unzigzag(try reader.readVarint()))
        case Tag.double:
            var bits: UInt64 = 0
            for (i, byte) in try reader.readBytes(8).enumerated() { bits |= UInt64(byte) << (8 * UInt64(i)) }
            return .double(Double(bitPattern: bits))
        case Tag.string: return .string(try reader.readString())
        case Tag.bytes:
            let count = try reader.readLength()
            return .bytes(Array(try reader.readBytes(count)))
        case Tag.list:
            guard depth < limit else { throw .tooDeep(offset: tagOffset) }
            let count = try reader.readLength(minimumElementSize: 1)
            var items: [Term] = []
            items.reserveCapacity(min(count, reserveLimit))
            for _ in 0..<count { items.append(try decodeValue(from: &reader, depth: depth + 1, limit: limit)) }
            return .list(items)
        case Tag.map:
            guard depth < limit else { throw .tooDeep(offset: tagOffset) }
            // The smallest pair is an empty key (1 byte) and a null (1 byte).
            let count = try reader.readLength(minimumElementSize: 2)
            var fields: [String: Term] = Dictionary(minimumCapacity: min(count, reserveLimit))
            for _ in 0..<count {
                let keyOffset = reader.offset
                let key = try reader.readString()
                let value = try decodeValue(from: &reader, depth: depth + 1, limit: limit)
                guard fields.updateValue(value, forKey: key) == nil else { throw .duplicateKey(offset: keyOffset) }
            }
            return .map(fields)
        case Tag.pid: return .pid(Pid(try reader.readVarint()))
        default: throw .unknownTag(tag, offset: tagOffset)
        }
    }
}

/// Why bytes are not a valid encoded term; offsets are from the start of the reader's buffer.
public enum TermCodecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input ended inside the value whose read began at `offset`.
    case truncated(offset: Int)
    /// A value began with a byte that is no tag of the format.
    case unknownTag(UInt8, offset: Int)
    /// A list or map at `offset` would nest deeper than `TermCodec.maxDepth`.
    case tooDeep(offset: Int)
    /// A string or key has ill-formed UTF-8 at byte `offset`.
    case invalidUTF8(offset: Int)
    /// A whole term decoded but `count` bytes were left over.
    case trailingBytes(count: Int)
    /// The varint at `offset` is longer than 10 bytes or exceeds 64 bits.
    case varintOverflow(offset: Int)
    /// The map key at `offset` repeats an earlier key of the same map.
    case duplicateKey(offset: Int)

    /// One line for logs, e.g. "unknown tag 0x2a at offset 17".
    public var description: String {
        switch self {
        case .truncated(let offset): "input truncated in value at offset \(offset)"
        case .unknownTag(let tag, let offset):
            "unknown tag 0x\(tag < 16 ? "0" : "")\(String(tag, radix: 16)) at offset \(offset)"
        case .tooDeep(let offset): "nesting deeper than \(TermCodec.maxDepth) at offset \(offset)"
        case .invalidUTF8(let offset): "invalid UTF-8 in string at offset \(offset)"
        case .trailingBytes(let count): "\(count) trailing byte\(count == 1 ? "" : "s") after the value"
        case .varintOverflow(let offset): "varint at offset \(offset) overflows 64 bits"
        case .duplicateKey(let offset): "duplicate map key at offset \(offset)"
        }
    }
}

/// A bounds-checked cursor over bytes; every read either succeeds or throws, never traps.
public struct ByteReader: Sendable {
    /// The whole buffer; offsets in errors index into it.
    public let bytes: [UInt8]
    /// Position of the next byte to read.
    public private(set) var offset: Int
    /// One past the last readable byte, so a reader can cover a frame inside a larger buffer.
    public let end: Int

    /// Reads `bytes[offset..<end]`; out-of-range bounds are clamped rather than trapping.
    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.end = min(max(end ?? bytes.count, 0), bytes.count)
        self.offset = min(max(offset, 0), self.end)
    }

    /// Bytes left before `end`.
    public var remaining: Int { end - offset }

    /// True once every byte up to `end` has been read.
    public var isAtEnd: Bool { offset >= end }

    /// Reads one byte.
    public mutating func readByte() throws(TermCodecError) -> UInt8 {
        guard offset < end else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes that fits in 64 bits.
    public mutating func readVarint() throws(TermCodecError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        for index in 0..<10 {
            guard offset < end else { throw .truncated(offset: start) }
            let byte = bytes[offset]
            offset += 1
            // The tenth byte carries only bit 63; anything more is a value wider than 64 bits.
            if index == 9, byte > 1 { throw .varintOverflow(offset: start) }
            result |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte & 0x80 == 0 { return result }
        }
        throw .varintOverflow(offset: start)
    }

    /// Reads a varint count of items at least `minimumElementSize` bytes each, rejecting
    /// counts the remaining bytes cannot hold, so callers may size buffers from it.
    public mutating func readLength(minimumElementSize: Int = 1) throws(TermCodecError) -> Int {
        let start = offset
        let value = try readVarint()
        guard value <= UInt64(remaining / max(minimumElementSize, 1)) else { throw .truncated(offset: start) }
        return Int(value)
    }

    /// Reads exactly `count` bytes as a slice of the underlying buffer (no copy).
    public mutating func readBytes(_ count: Int) throws(TermCodecError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(offset: offset) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// Reads a varint byte count and that many bytes of UTF-8.
    public mutating func readString() throws(TermCodecError) -> String {
        let count = try readLength()
        let start = offset
        if let bad = UTF8Scan.firstInvalid(bytes, in: start..<(start + count)) { throw .invalidUTF8(offset: bad) }
        offset += count
        return String(decoding: bytes[start..<(start + count)], as: UTF8.self)
    }
}
