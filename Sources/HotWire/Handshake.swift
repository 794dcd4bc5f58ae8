import Hot
import HotPlatform

/// The handshake, as two state machines over frames (no I/O here, so tests
/// and the fuzzer drive them with bytes alone).
///
/// 1. node → client `hello`: protocol version, node name, challenge Cn
/// 2. client → node `challenge`: challenge Cc, proof HMAC(cookie, "hot-client" Cn Cc)
/// 3. node → client `welcome`: proof HMAC(cookie, "hot-node" Cc Cn)
///
/// Each side proves the cookie over the other's fresh challenge, so the cookie
/// never crosses the wire and a recorded handshake replays nowhere. Both then
/// derive the session key HMAC(cookie, "hot-session" Cn Cc).
public enum Handshake {
    /// The protocol version this build speaks.
    public static let protocolVersion = 1
    /// Bytes in each challenge.
    public static let challengeLength = 32
    /// The reason of a refusal frame from a node that dropped the handshake
    /// because newer ones needed its slot (docs/PROTOCOL.md, "Handshake").
    public static let busy = "busy"

    /// The refusal frame a node sends in place of its welcome, before it
    /// closes, when it drops a handshake for `reason` rather than for the cookie.
    public static func refusal(reason: String) -> Frame {
        Frame(.refusal, TermCodec.encode(["reason": .string(reason)]))
    }

    static func clientProof(cookie: [UInt8], node: [UInt8], client: [UInt8]) -> [UInt8] {
        hmacSHA256(key: cookie, Array("hot-client".utf8), node, client)
    }

    static func nodeProof(cookie: [UInt8], node: [UInt8], client: [UInt8]) -> [UInt8] {
        hmacSHA256(key: cookie, Array("hot-node".utf8), client, node)
    }

    static func sessionKey(cookie: [UInt8], node: [UInt8], client: [UInt8]) -> [UInt8] {
        hmacSHA256(key: cookie, Array("hot-session".utf8), node, client)
    }
}

/// The node's side of the handshake.
public struct NodeHandshake: Sendable {
    private let cookie: [UInt8]
    private let challenge: [UInt8]
    /// The name the node announces.
    public let nodeName: String

    /// A handshake with a fresh challenge (or a given one, for tests).
    public init(cookie: [UInt8], nodeName: String, challenge: [UInt8] = randomBytes(Handshake.challengeLength)) {
        self.cookie = cookie
        self.nodeName = nodeName
        self.challenge = challenge
    }

    /// Step 1: the frame the node sends first.
    public func hello() -> Frame {
        let term: Term = [
            "version": .int(Handshake.protocolVersion), "node": .string(nodeName), "challenge": .bytes(challenge),
        ]
        return Frame(.hello, TermCodec.encode(term))
    }

    /// Step 3: checks the client's proof; returns the welcome frame and the session.
    public func accept(_ frame: Frame) throws(WireError) -> (welcome: Frame, session: Session) {
        guard frame.type == .challenge else { throw .unexpectedFrame(expected: "challenge", got: "\(frame.type)") }
        let term = try decodePayload(frame.payload)
        guard case .bytes(let clientChallenge)? = term["challenge"], clientChallenge.count == Handshake.challengeLength,
            case .bytes(let proof)? = term["proof"]
        else { throw .badMessage(reason: "challenge frame lacks a challenge or a proof") }
        let expected = Handshake.clientProof(cookie: cookie, node: challenge, client: clientChallenge)
        guard constantTimeEqual(expected, proof) else { throw .authenticationFailed }
        let answer = Handshake.nodeProof(cookie: cookie, node: challenge, client: clientChallenge)
        let key = Handshake.sessionKey(cookie: cookie, node: challenge, client: clientChallenge)
        let welcome = Frame(.welcome, TermCodec.encode(["proof": .bytes(answer)]))
        return (welcome, Session(key: key, isNode: true))
    }
}

/// The client's side of the handshake.
public struct ClientHandshake: Sendable {
    private let cookie: [UInt8]
    private let challenge: [UInt8]
    private var nodeChallenge: [UInt8] = []
    /// The name the node announced in its hello.
    public private(set) var nodeName = ""

    /// A handshake with a fresh challenge (or a given one, for tests).
    public init(cookie: [UInt8], challenge: [UInt8] = randomBytes(Handshake.challengeLength)) {
        self.cookie = cookie
        self.challenge = challenge
    }

    /// Step 2: answers the node's hello with the client's challenge and proof.
    public mutating func answer(_ hello: Frame) throws(WireError) -> Frame {
        guard hello.type == .hello else { throw .unexpectedFrame(expected: "hello", got: "\(hello.type)") }
        let term = try decodePayload(hello.payload)
        guard case .int(let version)? = term["version"], case .string(let name)? = term["node"],
            case .bytes(let nodeChallenge)? = term["challenge"], nodeChallenge.count == Handshake.challengeLength
        else { throw .badMessage(reason: "hello frame lacks a version, node name or challenge") }
        guard version == Handshake.protocolVersion else {
            throw .badMessage(reason: "node speaks protocol \(version), this client \(Handshake.protocolVersion)")
        }
        self.nodeChallenge = nodeChallenge
        self.nodeName = name
        let proof = Handshake.clientProof(cookie: cookie, node: nodeChallenge, client: challenge)
        return Frame(.challenge, TermCodec.encode(["challenge": .bytes(challenge), "proof": .bytes(proof)]))
    }

    /// Step 4: checks the node's proof; returns the session.
    public func finish(_ welcome: Frame) throws(WireError) -> Session {
        if welcome.type == .refusal {
            guard case .string(let reason)? = try decodePayload(welcome.payload)["reason"] else {
                throw .badMessage(reason: "refusal frame lacks a reason")
            }
            throw .refused(reason: reason)
        }
        guard welcome.type == .welcome else { throw .unexpectedFrame(expected: "welcome", got: "\(welcome.type)") }
        guard !nodeChallenge.isEmpty else { throw .unexpectedFrame(expected: "hello", got: "welcome") }
        let term = try decodePayload(welcome.payload)
        guard case .bytes(let proof)? = term["proof"] else { throw .badMessage(reason: "welcome frame lacks a proof") }
        let expected = Handshake.nodeProof(cookie: cookie, node: nodeChallenge, client: challenge)
        guard constantTimeEqual(expected, proof) else { throw .authenticationFailed }
        return Session(key: Handshake.sessionKey(cookie: cookie, node: nodeChallenge, client: challenge), isNode: false)
    }
}

func decodePayload(_ payload: [UInt8]) throws(WireError) -> Term {
    do {
        return try TermCodec.decode(payload)
    } catch {
        throw .badMessage(reason: "\(error)")
    }
}
