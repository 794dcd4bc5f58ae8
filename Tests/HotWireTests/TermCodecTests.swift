import Hot
import Testing

@testable import HotWire

/// Every case of `Term`, nested, with the strings and keys that are hard to
/// encode (the JSON tests keep the same value for the same reason).
let everyTermCase: Term = [
    "null": nil, "true": true, "false": false,
    "int": -42, "max": .int(.max), "min": .int(.min),
    "double": 1.5, "tiny": 1e-5, "whole": 2.0, "negzero": -0.0,
    "string": "héllo \"q\" \\ / \n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} 😀 \u{2028}",
    "bytes": .bytes([0, 1, 2, 253, 254, 255]), "noBytes": .bytes([]),
    "list": [1, [2, [3, []]], [:], "x"],
    "pid": .pid(Pid(7)), "bigPid": .pid(Pid(.max)),
    "lookAlike": ["$bytes": "AAAA"], "lookAlike2": ["$$pid": 3], "lookAlike3": ["$bytes": .bytes([1])],
    "dollar": ["$x": 1], "emptyKey": ["": 1], "twoKeys": ["$bytes": "AAAA", "b": 1],
]

/// SplitMix64: a seeded generator so that a failing fuzz case reproduces.
struct WireTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func decodeError(_ bytes: [UInt8]) -> TermCodecError? {
    do {
        _ = try TermCodec.decode(bytes)
        return nil
    } catch {
        return error
    }
}

/// `depth` nested one-item lists around a null.
private func nestedLists(_ depth: Int) -> [UInt8] {
    Array(Array(repeating: [UInt8]([7, 1]), count: depth).joined()) + [0]
}

@Suite struct TermCodecTests {
    @Test func everyCaseRoundTrips() throws {
        #expect(try TermCodec.decode(TermCodec.encode(everyTermCase)) == everyTermCase)
        for term: Term in [nil, true, false, 0, .int(.min), .int(.max), .double(-0.0), .double(.infinity), "", .bytes([]), [], [:], .pid(Pid(0))] {
            #expect(try TermCodec.decode(TermCodec.encode(term)) == term)
        }
        let nan = try TermCodec.decode(TermCodec.encode(.double(.nan)))
        guard case .double(let d) = nan else { Issue.record("not a double: \(nan)"); return }
        #expect(d.isNaN)
    }

    @Test func byteLayout() {
        #expect(TermCodec.encode(nil) == [0])
        #expect(TermCodec.encode(false) == [1])
        #expect(TermCodec.encode(true) == [2])
        #expect(TermCodec.encode(0) == [3, 0])
        #expect(TermCodec.encode(-1) == [3, 1])
        #expect(TermCodec.encode(1) == [3, 2])
        #expect(TermCodec.encode(64) == [3, 0x80, 0x01])
        #expect(TermCodec.encode(.int(.min)) == [3] + Array(repeating: 0xFF, count: 9) + [0x01])
        #expect(TermCodec.encode(1.0) == [4, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect(TermCodec.encode("hé") == [5, 3, 0x68, 0xC3, 0xA9])
        #expect(TermCodec.encode(.bytes([9, 8])) == [6, 2, 9, 8])
        #expect(TermCodec.encode([nil, true]) == [7, 2, 0, 2])
        #expect(TermCodec.encode(.pid(Pid(300))) == [9, 0xAC, 0x02])
        // Keys are sorted, so equal maps give equal bytes.
        #expect(TermCodec.encode(["b": 1, "a": nil]) == [8, 2, 1, 0x61, 0, 1, 0x62, 3, 2])
    }

    @Test func varints() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 1 << 35, .max - 1, .max] {
            var buffer: [UInt8] = []
            TermCodec.appendVarint(value, to: &buffer)
            var reader = ByteReader(buffer)
            #expect(try reader.readVarint() == value)
            #expect(reader.isAtEnd)
        }
        var maxBytes: [UInt8] = []
        TermCodec.appendVarint(.max, to: &maxBytes)
        #expect(maxBytes.count == 10)
        for n in [Int.min, -1, 0, 1, .max] { #expect(TermCodec.unzigzag(TermCodec.zigzag(n)) == n) }
    }

    @Test func byteReaderBounds() throws {
        var reader = ByteReader([1, 2, 3, 4, 5], offset: 1, end: 4)
        #expect(reader.remaining == 3)
        #expect(try reader.readByte() == 2)
        #expect(Array(try reader.readBytes(2)) == [3, 4])
        #expect(throws: TermCodecError.truncated(offset: 4)) { try reader.readByte() }
        var clamped = ByteReader([1], offset: 5, end: 99)
        #expect(clamped.isAtEnd)
        #expect(throws: TermCodecError.truncated(offset: 1)) { try clamped.readBytes(1) }
        #expect(throws: TermCodecError.truncated(offset: 1)) { try clamped.readBytes(-1) }
    }

    @Test func decodeFromReaderLeavesTheRest() throws {
        var buffer = TermCodec.encode("first")
        TermCodec.encode(2, into: &buffer)
        var reader = ByteReader(buffer)
        #expect(try TermCodec.decode(from: &reader) == "first")
        #expect(try TermCodec.decode(from: &reader) == 2)
        #expect(reader.isAtEnd)
    }

    @Test(arguments: [
        ([], TermCodecError.truncated(offset: 0)),
        ([10], .unknownTag(10, offset: 0)),
        ([7, 1, 0xFF], .unknownTag(0xFF, offset: 2)),
        ([3], .truncated(offset: 1)),
        ([3, 0x80], .truncated(offset: 1)),
        ([3] + Array(repeating: 0x80, count: 10) + [0], .varintOverflow(offset: 1)),
        ([3] + Array(repeating: 0xFF, count: 9) + [0x02], .varintOverflow(offset: 1)),
        ([4, 1, 2, 3], .truncated(offset: 1)),
        ([5, 3, 0x61], .truncated(offset: 1)),
        ([5, 1, 0xFF], .invalidUTF8(offset: 2)),
        ([5, 4, 0x61, 0xED, 0xA0, 0x80], .invalidUTF8(offset: 3)),
        ([5, 2, 0xC3, 0x28], .invalidUTF8(offset: 2)),
        ([8, 1, 1, 0xC0, 0], .invalidUTF8(offset: 3)),
        ([6, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], .truncated(offset: 1)),
        ([7, 5, 0], .truncated(offset: 1)),
        ([8, 2, 1, 0x61, 0], .truncated(offset: 1)),
        ([8, 2, 1, 0x61, 0, 1, 0x61, 0], .duplicateKey(offset: 5)),
        ([0, 0], .trailingBytes(count: 1)),
        ([2, 1, 2, 3], .trailingBytes(count: 3)),
    ] as [([UInt8], TermCodecError)])
    func malformedInput(bytes: [UInt8], expected: TermCodecError) {
        #expect(decodeError(bytes) == expected)
    }

    @Test func errorDescriptions() {
        #expect(TermCodecError.unknownTag(0x2A, offset: 17).description == "unknown tag 0x2a at offset 17")
        #expect(TermCodecError.trailingBytes(count: 1).description == "1 trailing byte after the value")
        #expect(TermCodecError.truncated(offset: 3).description.contains("offset 3"))
    }

    @Test func depthLimit() throws {
        #expect(throws: Never.self) { try TermCodec.decode(nestedLists(TermCodec.maxDepth)) }
        #expect(decodeError(nestedLists(TermCodec.maxDepth + 1)) == .tooDeep(offset: 2 * TermCodec.maxDepth))
        let deepMaps: [UInt8] = Array(repeating: [UInt8]([8, 1, 0]), count: 200).joined() + [0]
        #expect(decodeError(deepMaps) == .tooDeep(offset: 3 * TermCodec.maxDepth))
    }

    @Test func everyTruncatedPrefixFails() {
        let bytes = TermCodec.encode(everyTermCase)
        for length in 0..<bytes.count {
            let error = decodeError(Array(bytes[..<length]))
            guard case .truncated? = error else {
                Issue.record("prefix of \(length) bytes gave \(String(describing: error))")
                continue
            }
        }
    }

    @Test func hostileCountsDoNotAllocate() {
        // Each claims 2^62 elements in a tiny buffer; the count check must fire before any reservation.
        let huge: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        for tag: UInt8 in [5, 6, 7, 8] {
            #expect(decodeError([tag] + huge) == .truncated(offset: 1))
        }
        // 128 nested lists each claiming as many items as bytes remain.
        var nested: [UInt8] = []
        for level in 0..<128 { nested += [7, 0xFF, 0x01 + UInt8(level % 2)] }
        #expect(decodeError(nested) != nil)
    }

    @Test func randomBytesNeverCrash() {
        var rng = WireTestRNG(seed: 42)
        var decoded = 0
        for round in 0..<100_000 {
            var bytes = (0..<Int.random(in: 0...48, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Bias toward valid tags so that decoding gets past the first byte often.
            if round % 2 == 0 {
                for i in bytes.indices where Bool.random(using: &rng) { bytes[i] = UInt8.random(in: 0...9, using: &rng) }
            }
            if (try? TermCodec.decode(bytes)) != nil { decoded += 1 }
        }
        #expect(decoded > 0)
    }

    @Test func mutatedEncodingsNeverCrashAndReencodeConsistently() throws {
        var rng = WireTestRNG(seed: 7)
        let original = TermCodec.encode(everyTermCase)
        for _ in 0..<20_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0...2, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            guard let term = try? TermCodec.decode(bytes) else { continue }
            // A mutated double may be NaN, which never equals itself; compare bytes instead.
            let again = TermCodec.encode(term)
            #expect(TermCodec.encode(try TermCodec.decode(again)) == again)
        }
    }
}
