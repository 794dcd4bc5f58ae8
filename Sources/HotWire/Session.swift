@preconcurrency import Crypto

/// The keys and counters of an authenticated connection.
///
/// Every frame after the handshake carries HMAC-SHA256(key, direction ||
/// sequence || type || payload). The key is new for each connection (it
/// derives from both fresh challenges), the sequence counts frames in each
/// direction, and the direction byte differs each way: a frame from another
/// session, a replayed one, a reordered one, or one reflected back at its
/// sender fails the check.
public struct Session: Sendable {
    private let key: SymmetricKey
    private var sent: UInt64 = 0
    private var received: UInt64 = 0
    private let outgoing: UInt8
    private let incoming: UInt8

    /// A session for the node's side (`isNode`) or the client's, under `key`.
    public init(key: [UInt8], isNode: Bool) {
        self.key = SymmetricKey(data: key)
        self.outgoing = isNode ? 0x4E : 0x43
        self.incoming = isNode ? 0x43 : 0x4E
    }

    /// The MAC for the next frame sent; counts it.
    public mutating func seal(_ frame: Frame) -> [UInt8] {
        defer { sent += 1 }
        return mac(direction: outgoing, sequence: sent, frame)
    }

    /// Checks the MAC of the next frame received; counts it.
    public mutating func open(_ frame: Frame, mac: [UInt8]) throws(WireError) {
        let expected = self.mac(direction: incoming, sequence: received, frame)
        guard constantTimeEqual(expected, mac) else { throw .badMAC }
        received += 1
    }

    private func mac(direction: UInt8, sequence: UInt64, _ frame: Frame) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        var header: [UInt8] = [direction]
        withUnsafeBytes(of: sequence.bigEndian) { header.append(contentsOf: $0) }
        header.append(frame.type.rawValue)
        hmac.update(data: header)
        hmac.update(data: frame.payload)
        return Array(hmac.finalize())
    }
}

/// Compares two byte strings in time that depends on their length only, so a
/// peer cannot learn a MAC byte by byte from response times.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}

/// HMAC-SHA256 of `parts` concatenated, under `key`.
func hmacSHA256(key: [UInt8], _ parts: [UInt8]...) -> [UInt8] {
    var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
    for part in parts { hmac.update(data: part) }
    return Array(hmac.finalize())
}
