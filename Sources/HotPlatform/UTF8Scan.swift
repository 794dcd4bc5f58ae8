// UTF-8 validation shared by the term codec and JSON.

/// UTF-8 checks written out so that errors can name the exact offending byte.
public enum UTF8Scan {
    /// Length of the well-formed scalar starting at `i` (Unicode Table 3-7), or nil if ill-formed.
    public static func sequenceLength(_ bytes: [UInt8], at i: Int) -> Int? {
        let b0 = bytes[i]
        if b0 < 0x80 { return 1 }
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0  // no overlongs
        case 0xED: length = 3; high = 0x9F  // no surrogates
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; low = 0x90  // no overlongs
        case 0xF4: length = 4; high = 0x8F  // nothing above U+10FFFF
        case 0xF1...0xF3: length = 4
        default: return nil
        }
        guard i + length <= bytes.count, (low...high).contains(bytes[i + 1]) else { return nil }
        for j in (i + 2)..<(i + length) where bytes[j] & 0xC0 != 0x80 { return nil }
        return length
    }

    /// Offset of the first ill-formed byte in `bytes[range]`, or nil if it is all valid UTF-8.
    public static func firstInvalid(_ bytes: [UInt8], in range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i < range.upperBound {
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            guard let length = sequenceLength(bytes, at: i), i + length <= range.upperBound else { return i }
            i += length
        }
        return nil
    }

    /// Appends the UTF-8 form of a scalar value already known to be valid.
    public static func append(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18 & 0x07))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
