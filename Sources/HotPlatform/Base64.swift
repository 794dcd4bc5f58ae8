/// Standard base64 (RFC 4648 §4) with padding; decoding is strict so a tag has one spelling.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The base64 text of `data`.
    public static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i < data.count {
            let n = data.count - i
            let b0 = UInt32(data[i])
            let b1 = n > 1 ? UInt32(data[i + 1]) : 0
            let b2 = n > 2 ? UInt32(data[i + 2]) : 0
            let word = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(word >> 18 & 0x3F)])
            out.append(alphabet[Int(word >> 12 & 0x3F)])
            out.append(n > 1 ? alphabet[Int(word >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(word & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for anything not exactly what `encode` would produce (bad length, characters, padding or spare bits).
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let last = i + 4 == chars.count
            let padding = last ? (chars[i + 3] == UInt8(ascii: "=") ? 1 : 0) + (chars[i + 2] == UInt8(ascii: "=") ? 1 : 0) : 0
            if padding == 1, chars[i + 2] == UInt8(ascii: "=") { return nil }  // "x=x=" style
            var word: UInt32 = 0
            for j in 0..<(4 - padding) {
                guard let v = value(chars[i + j]) else { return nil }
                word = word << 6 | v
            }
            word <<= 6 * UInt32(padding)
            // Nonzero spare bits would give a second spelling of the same bytes.
            if padding > 0, word & (padding == 1 ? 0xFF : 0xFFFF) != 0 { return nil }
            out.append(UInt8(word >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(word >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(word & 0xFF)) }
            i += 4
        }
        return out
    }

    static func value(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(c - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(c - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
