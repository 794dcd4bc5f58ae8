import HotPlatform

/// Why a frame, a handshake or a message was refused.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A frame announced more bytes than the limit allows.
    case frameTooLarge(length: Int, limit: Int)
    /// A frame too short to hold its own header or MAC.
    case malformedFrame(reason: String)
    /// A frame type this version of the protocol does not know.
    case unknownFrameType(UInt8)
    /// A frame arrived that the current state does not expect.
    case unexpectedFrame(expected: String, got: String)
    /// A frame's MAC did not verify: altered, replayed or reordered.
    case badMAC
    /// The peer did not prove the cookie.
    case authenticationFailed
    /// The node dropped the handshake for another reason than the cookie,
    /// and said so in a refusal frame: `busy` when newer handshakes evicted it.
    case refused(reason: String)
    /// A payload that is not a valid message.
    case badMessage(reason: String)
    /// The peer closed the connection.
    case closed
    /// The peer did not answer in time.
    case timedOut
    /// The socket failed.
    case system(SystemError)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit)"
        case .malformedFrame(let reason): "malformed frame: \(reason)"
        case .unknownFrameType(let type): "unknown frame type \(type)"
        case .unexpectedFrame(let expected, let got): "expected a \(expected) frame, got \(got)"
        case .badMAC: "frame authentication failed (altered, replayed or reordered)"
        case .authenticationFailed: "the cookie was refused"
        case .refused(let reason) where reason == Handshake.busy:
            "the node was busy with other connections' handshakes and dropped this one; try again"
        case .refused(let reason): "the node refused the handshake: \(reason)"
        case .badMessage(let reason): "bad message: \(reason)"
        case .closed: "connection closed by the peer"
        case .timedOut: "timed out waiting for the peer"
        case .system(let error): error.description
        }
    }
}
