@preconcurrency import Crypto

/// SHA-256 over bytes fed in pieces, for uploads and artifacts.
public struct SHA256Hasher: Sendable {
    private var hasher = SHA256()

    /// A hasher over nothing yet.
    public init() {}

    /// Adds bytes.
    public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }

    /// The digest as 64 lowercase hex digits.
    public func hexDigest() -> String { Hex.encode(hasher.finalize()) }

    /// The digest of `bytes` as 64 lowercase hex digits.
    public static func hex(of bytes: [UInt8]) -> String {
        var h = SHA256Hasher()
        h.update(bytes)
        return h.hexDigest()
    }
}
