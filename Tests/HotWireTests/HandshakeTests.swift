import Hot
import Testing

@testable import HotWire

private let cookie = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".utf8)

/// Everything one handshake produced: the frames that crossed and both sessions.
private struct Run {
    var hello: Frame
    var challenge: Frame
    var welcome: Frame
    var node: Session
    var client: Session
}

/// Runs a whole handshake with frames only.
private func handshake(nodeCookie: [UInt8] = cookie, clientCookie: [UInt8] = cookie) throws -> Run {
    let node = NodeHandshake(cookie: nodeCookie, nodeName: "alpha")
    var client = ClientHandshake(cookie: clientCookie)
    let hello = node.hello()
    let challenge = try client.answer(hello)
    let (welcome, nodeSession) = try node.accept(challenge)
    let clientSession = try client.finish(welcome)
    #expect(client.nodeName == "alpha")
    return Run(hello: hello, challenge: challenge, welcome: welcome, node: nodeSession, client: clientSession)
}

/// The WireError `body` throws, or nil (also for any other error).
private func caught<T>(_ body: () throws -> T) -> WireError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? WireError
    }
}

private func isBadMessage(_ error: WireError?) -> Bool {
    if case .badMessage? = error { return true }
    return false
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
}

@Suite struct HandshakeTests {
    @Test func sameCookieMakesSessionsBothWays() throws {
        var run = try handshake()
        let request = Frame(.request, [1, 2, 3])
        let mac = run.client.seal(request)
        #expect(mac.count == FrameLimits.macLength)
        try run.node.open(request, mac: mac)

        let response = Frame(.response, Array("ok".utf8))
        try run.client.open(response, mac: run.node.seal(response))

        // Several in a row in each direction keep the counters in step.
        for i in 0..<5 {
            let f = Frame(.chunk, [UInt8(i)])
            try run.node.open(f, mac: run.client.seal(f))
            let g = Frame(.response, [UInt8(i)])
            try run.client.open(g, mac: run.node.seal(g))
        }
    }

    @Test func wrongCookieRefusedByNode() throws {
        let node = NodeHandshake(cookie: cookie, nodeName: "alpha")
        var client = ClientHandshake(cookie: Array("not the cookie".utf8))
        let challenge = try client.answer(node.hello())
        #expect(caught { try node.accept(challenge) } == .authenticationFailed)
    }

    @Test func nodeWithoutTheCookieRefusedByClient() throws {
        // An impostor node: it skips checking the client's proof and answers
        // with a proof under a cookie it guessed.
        let nodeChallenge = [UInt8](repeating: 0x4E, count: Handshake.challengeLength)
        let clientChallenge = [UInt8](repeating: 0x43, count: Handshake.challengeLength)
        let impostor = NodeHandshake(cookie: Array("guess".utf8), nodeName: "evil", challenge: nodeChallenge)
        var client = ClientHandshake(cookie: cookie, challenge: clientChallenge)
        let challenge = try client.answer(impostor.hello())
        let guessed = Handshake.nodeProof(cookie: Array("guess".utf8), node: nodeChallenge, client: clientChallenge)
        let welcome = Frame(.welcome, TermCodec.encode(["proof": .bytes(guessed)]))
        #expect(caught { try client.finish(welcome) } == .authenticationFailed)

        // Reflecting the client's own proof back does not pass either: the
        // two proofs are made under different labels.
        guard case .bytes(let clientProof)? = try TermCodec.decode(challenge.payload)["proof"] else {
            Issue.record("challenge has no proof")
            return
        }
        let reflected = Frame(.welcome, TermCodec.encode(["proof": .bytes(clientProof)]))
        #expect(caught { try client.finish(reflected) } == .authenticationFailed)
    }

    @Test func recordedHandshakeReplaysNowhere() throws {
        let recorded = try handshake()
        // A recorded challenge sent to a new node (fresh challenge) fails.
        let node = NodeHandshake(cookie: cookie, nodeName: "alpha")
        #expect(caught { try node.accept(recorded.challenge) } == .authenticationFailed)
        // A recorded welcome given to a new client (fresh challenge) fails.
        var client = ClientHandshake(cookie: cookie)
        _ = try client.answer(recorded.hello)
        #expect(caught { try client.finish(recorded.welcome) } == .authenticationFailed)
    }

    @Test func cookieNeverCrossesTheWire() throws {
        let run = try handshake()
        for frame in [run.hello, run.challenge, run.welcome] {
            var wire: [UInt8] = []
            FrameCodec.encode(frame, into: &wire)
            // No 8-byte window of the cookie appears anywhere in the bytes.
            for start in stride(from: 0, through: cookie.count - 8, by: 1) {
                #expect(!contains(wire, Array(cookie[start..<(start + 8)])), "\(frame.type) leaks the cookie")
            }
        }
    }

    @Test func flippedBitFailsMAC() throws {
        var run = try handshake()
        let frame = Frame(.request, [0x10, 0x20, 0x30])
        let mac = run.client.seal(frame)
        var altered = frame
        altered.payload[1] ^= 0x01
        #expect(caught { try run.node.open(altered, mac: mac) } == .badMAC)
        var alteredMAC = mac
        alteredMAC[31] ^= 0x80
        #expect(caught { try run.node.open(frame, mac: alteredMAC) } == .badMAC)
        // The type is covered too.
        #expect(caught { try run.node.open(Frame(.chunk, frame.payload), mac: mac) } == .badMAC)
        #expect(caught { try run.node.open(frame, mac: []) } == .badMAC)
    }

    @Test func replayedFrameFails() throws {
        var run = try handshake()
        let frame = Frame(.request, [7])
        let mac = run.client.seal(frame)
        try run.node.open(frame, mac: mac)
        #expect(caught { try run.node.open(frame, mac: mac) } == .badMAC)
    }

    @Test func reorderedFramesFail() throws {
        var run = try handshake()
        let first = Frame(.request, [1])
        let second = Frame(.request, [2])
        _ = run.client.seal(first)
        let mac2 = run.client.seal(second)
        #expect(caught { try run.node.open(second, mac: mac2) } == .badMAC)
    }

    @Test func reflectedFrameFails() throws {
        var run = try handshake()
        let frame = Frame(.request, [1, 2])
        let mac = run.client.seal(frame)
        #expect(caught { try run.client.open(frame, mac: mac) } == .badMAC)
        let answer = Frame(.response, [3])
        let nodeMAC = run.node.seal(answer)
        #expect(caught { try run.node.open(answer, mac: nodeMAC) } == .badMAC)
    }

    @Test func sessionsDifferPerHandshake() throws {
        var one = try handshake()
        var two = try handshake()
        let frame = Frame(.request, [42])
        let mac = one.client.seal(frame)
        // Same cookie, same sequence number 0, other session: refused.
        #expect(caught { try two.node.open(frame, mac: mac) } == .badMAC)
        try one.node.open(frame, mac: mac)
        let macTwo = two.client.seal(frame)
        #expect(mac != macTwo)
    }

    @Test func wrongFrameTypeAtEachStep() throws {
        let node = NodeHandshake(cookie: cookie, nodeName: "alpha")
        var client = ClientHandshake(cookie: cookie)
        let hello = node.hello()

        #expect(caught { try client.answer(Frame(.welcome, hello.payload)) }
            == .unexpectedFrame(expected: "hello", got: "welcome"))
        #expect(caught { try client.answer(Frame(.request, [])) } == .unexpectedFrame(expected: "hello", got: "request"))
        // A welcome before any hello.
        #expect(caught { try client.finish(Frame(.welcome, [])) } == .unexpectedFrame(expected: "hello", got: "welcome"))

        let challenge = try client.answer(hello)
        #expect(caught { try node.accept(hello) } == .unexpectedFrame(expected: "challenge", got: "hello"))
        #expect(caught { try node.accept(Frame(.request, challenge.payload)) }
            == .unexpectedFrame(expected: "challenge", got: "request"))

        let (welcome, _) = try node.accept(challenge)
        #expect(caught { try client.finish(hello) } == .unexpectedFrame(expected: "welcome", got: "hello"))
        #expect(caught { try client.finish(Frame(.response, welcome.payload)) }
            == .unexpectedFrame(expected: "welcome", got: "response"))
        _ = try client.finish(welcome)
    }

    @Test func malformedChallengeIsBadMessage() throws {
        let node = NodeHandshake(cookie: cookie, nodeName: "alpha")
        let proof = Term.bytes([UInt8](repeating: 1, count: 32))
        for length in [0, 31, 33] {
            let payload = TermCodec.encode(["challenge": .bytes([UInt8](repeating: 9, count: length)), "proof": proof])
            #expect(isBadMessage(caught { try node.accept(Frame(.challenge, payload)) }), "challenge of \(length) bytes")
        }
        let garbage: [[UInt8]] = [[], [0xFF, 0x00, 0x13], [8, 5], TermCodec.encode(["challenge": "text", "proof": proof])]
        for payload in garbage {
            #expect(isBadMessage(caught { try node.accept(Frame(.challenge, payload)) }), "payload \(payload)")
        }
        let noProof = TermCodec.encode(["challenge": .bytes([UInt8](repeating: 9, count: 32))])
        #expect(isBadMessage(caught { try node.accept(Frame(.challenge, noProof)) }))
    }

    @Test func malformedHelloAndWelcomeAreBadMessage() throws {
        let good: [String: Term] = ["version": 1, "node": "n", "challenge": .bytes([UInt8](repeating: 2, count: 32))]
        var shortChallenge = good
        shortChallenge["challenge"] = .bytes([1, 2, 3])
        var otherVersion = good
        otherVersion["version"] = 2
        var noName = good
        noName["node"] = nil
        for term in [shortChallenge, otherVersion, noName] {
            var client = ClientHandshake(cookie: cookie)
            #expect(isBadMessage(caught { try client.answer(Frame(.hello, TermCodec.encode(.map(term)))) }))
        }
        var client = ClientHandshake(cookie: cookie)
        #expect(isBadMessage(caught { try client.answer(Frame(.hello, [0xFF])) }))
        _ = try client.answer(Frame(.hello, TermCodec.encode(.map(good))))
        #expect(isBadMessage(caught { try client.finish(Frame(.welcome, [1, 2, 3])) }))
        #expect(isBadMessage(caught { try client.finish(Frame(.welcome, TermCodec.encode(["proof": "x"]))) }))
    }

    @Test func constantTimeEqualBasics() {
        #expect(constantTimeEqual([], []))
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([0, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(!constantTimeEqual([], [0]))
        #expect(!constantTimeEqual([UInt8](repeating: 0, count: 32), [UInt8](repeating: 0, count: 32) + [0]))
    }
}
