@preconcurrency import Crypto

/// SHA-256 over bytes fed in pieces, for uploads and artifacts.
public struct SHA256Hasher: Sendable {
    private var hasher = SHA256()

    /// A hasher over nothing yet.
    public init() {}

    /// Adds bytes.
    public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }

    /// The digest as 64 lowercase hex digits.
    public func hexDigest() -> String { hexString(Array(hasher.finalize())) }

    /// The digest of `bytes` as 64 lowercase hex digits.
    public static func hex(of bytes: [UInt8]) -> String {
        var h = SHA256Hasher()
        h.update(bytes)
        return h.hexDigest()
    }
}

/// Lowercase hex of bytes.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
