/// What a frame carries; its first payload byte on the wire.
public enum FrameType: UInt8, Sendable, CustomStringConvertible {
    /// Node to client: the node's name and challenge.
    case hello = 1
    /// Client to node: the client's challenge and its proof of the cookie.
    case challenge = 2
    /// Node to client: the node's proof of the cookie.
    case welcome = 3
    /// Node to client, in place of a welcome: the node dropped the handshake
    /// for a reason that is not the cookie (it was busy), and closes.
    case refusal = 4
    /// Client to node: one request message.
    case request = 16
    /// Node to client: one response message.
    case response = 17
    /// Client to node: a piece of an upload in progress.
    case chunk = 18

    public var description: String {
        switch self {
        case .hello: "hello"
        case .challenge: "challenge"
        case .welcome: "welcome"
        case .refusal: "refusal"
        case .request: "request"
        case .response: "response"
        case .chunk: "chunk"
        }
    }
}

/// One frame: a type and its payload, before or after authentication.
public struct Frame: Sendable, Equatable {
    /// The frame's type.
    public var type: FrameType
    /// The frame's body, without the MAC.
    public var payload: [UInt8]

    /// A frame from its parts.
    public init(_ type: FrameType, _ payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }
}

/// The limits a decoder enforces.
public enum FrameLimits {
    /// The largest frame a peer may send: 4 MiB, room for a 1 MiB upload chunk
    /// with plenty to spare, small enough that a stranger cannot make a node
    /// buffer much before the MAC is checked.
    public static let maxFrameLength = 4 << 20
    /// The largest frame before the handshake completes: nothing legitimate
    /// there is longer than a few hundred bytes.
    public static let maxHandshakeFrameLength = 4 << 10
    /// The MAC's length once a session is established (HMAC-SHA256).
    public static let macLength = 32
}

/// Wire layout of a frame:
///
/// | bytes | field |
/// | --- | --- |
/// | 4 | length L of what follows, big-endian |
/// | 1 | frame type |
/// | L - 1 - M | payload |
/// | M | MAC (M = 32 after the handshake, 0 before) |
public enum FrameCodec {
    /// Appends a frame's header and body (and a MAC if given) to `buffer`.
    public static func encode(_ frame: Frame, mac: [UInt8] = [], into buffer: inout [UInt8]) {
        let length = UInt32(1 + frame.payload.count + mac.count)
        buffer.reserveCapacity(buffer.count + 4 + Int(length))
        withUnsafeBytes(of: length.bigEndian) { buffer.append(contentsOf: $0) }
        buffer.append(frame.type.rawValue)
        buffer.append(contentsOf: frame.payload)
        buffer.append(contentsOf: mac)
    }
}

/// Splits a byte stream into frames. Feed it bytes as they arrive, in any
/// pieces, and take frames out; it holds back a partial frame until the rest
/// comes and refuses an oversized one before buffering it.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    /// The largest frame accepted now.
    public var maxLength: Int
    /// Bytes of MAC at the end of each frame (0 before the handshake).
    public var macLength: Int = 0

    /// A decoder refusing frames longer than `maxLength`.
    public init(maxLength: Int = FrameLimits.maxHandshakeFrameLength) {
        self.maxLength = maxLength
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame and its MAC, or nil until more bytes arrive.
    public mutating func next() throws(WireError) -> (frame: Frame, mac: [UInt8])? {
        let available = buffer.count - start
        guard available >= 4 else { return nil }
        var length = 0
        for i in 0..<4 { length = length << 8 | Int(buffer[start + i]) }
        guard length <= maxLength else { throw .frameTooLarge(length: length, limit: maxLength) }
        guard length >= 1 + macLength else {
            throw .malformedFrame(reason: "length \(length) leaves no room for the type and MAC")
        }
        guard available >= 4 + length else { return nil }
        let typeByte = buffer[start + 4]
        guard let type = FrameType(rawValue: typeByte) else { throw .unknownFrameType(typeByte) }
        let payloadStart = start + 5
        let macStart = start + 4 + length - macLength
        let frame = Frame(type, Array(buffer[payloadStart..<macStart]))
        let mac = Array(buffer[macStart..<(start + 4 + length)])
        start += 4 + length
        // Compact once the consumed prefix dominates, so a long session does
        // not keep every byte it ever received.
        if start > 64 << 10 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        return (frame, mac)
    }
}
