#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Testing

@testable import HotWire

// The test vectors of docs/PROTOCOL.md, recomputed with the real codec,
// handshake and session from the same fixed inputs and compared with the hex
// the document prints, so that the document and the code cannot drift apart.
// A block of vectors in the document is a fenced block whose info string is
// `vectors-terms` (exact encodings), `vectors-lenient` (accepted by decoders,
// not what encoders emit), `vectors-rejected` (refused by decoders),
// `vectors-handshake`, `vectors-session` or `vectors-stage`. Each line is a name and hex bytes;
// a line starting with a space continues the previous one.

/// The vectors of one kind, by name, in the order the document lists them.
private struct VectorBlock {
    var names: [String] = []
    var bytes: [String: [UInt8]] = [:]
}

/// Reads every vector block of docs/PROTOCOL.md, found from this file's path.
private func specVectors() throws -> [String: VectorBlock] {
    let testsFolder = parentDirectory(parentDirectory(#filePath))
    let path = parentDirectory(testsFolder) + "/docs/PROTOCOL.md"
    guard let text = readFile(path) else { throw SystemError("read \(path)") }
    var blocks: [String: VectorBlock] = [:]
    var kind: String?
    var current: String?
    for line in String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("```") {
            let info = line.dropFirst(3).trimmingCharacters()
            kind = kind == nil && info.hasPrefix("vectors") ? info : nil
            current = nil
            continue
        }
        guard let kind else { continue }
        var tokens = line.split(separator: " ").map(String.init)
        if !line.hasPrefix(" ") {
            guard let name = tokens.first else { continue }
            tokens.removeFirst()
            #expect(blocks[kind]?.bytes[name] == nil, "vector \(name) appears twice")
            blocks[kind, default: VectorBlock()].names.append(name)
            blocks[kind, default: VectorBlock()].bytes[name] = []
            current = name
        }
        guard let name = current else {
            Issue.record("hex without a vector name: \(line)")
            continue
        }
        for token in tokens {
            guard token.utf8.count == 2, let byte = UInt8(token, radix: 16) else {
                Issue.record("vector \(name): '\(token)' is not one hex byte")
                continue
            }
            blocks[kind, default: VectorBlock()].bytes[name]?.append(byte)
        }
    }
    return blocks
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// A vector line as the document writes it, for the failure message.
private func formatted(_ name: String, _ bytes: [UInt8]) -> String {
    let hex = bytes.map { Hex.encode([$0]) }
    var lines: [String] = []
    for start in stride(from: 0, to: max(hex.count, 1), by: 16) {
        let label = start == 0 ? name : ""
        let pad = String(repeating: " ", count: max(22 - label.count, 1))
        lines.append(label + pad + hex[start..<min(start + 16, hex.count)].joined(separator: " "))
    }
    return lines.joined(separator: "\n")
}

/// Compares every vector of a block with what the code computes, and the
/// block's names with the ones computed, so no vector goes unchecked.
private func compare(_ block: VectorBlock?, with computed: some Sequence<(key: String, value: [UInt8])>) {
    let block = block ?? VectorBlock()
    #expect(block.names == computed.map(\.key), "the document's vectors are not the ones this test computes")
    for (name, bytes) in computed {
        #expect(block.bytes[name] == bytes, "vector \(name) differs from the code's; the code says:\n\(formatted(name, bytes))")
    }
}

// MARK: - Terms

/// The terms of the `vectors` block of "Term encoding", each of which encodes to exactly the bytes listed.
private let canonicalTerms: KeyValuePairs<String, Term> = [
    "null": .null,
    "false": false,
    "true": true,
    "int(0)": 0,
    "int(1)": 1,
    "int(-1)": -1,
    "int(63)": 63,
    "int(-64)": -64,
    "int(64)": 64,
    "int(300)": 300,
    "int(Int64.max)": .int(Int.max),
    "int(Int64.min)": .int(Int.min),
    "double(1.5)": 1.5,
    "double(-0.1)": -0.1,
    "string(\"\")": "",
    "string(\"hé\")": "hé",
    "bytes(de_ad)": .bytes([0xDE, 0xAD]),
    "list([])": [],
    "list([1,\"a\",null])": [1, "a", nil],
    "map({})": .map([:]),
    "map({b:1,a:true})": ["b": 1, "a": true],
    "map(keys-by-byte)": ["é": nil, "a": nil, "B": nil, "z": nil],
    "map(keys-by-NFC)": ["e\u{301}": nil, "f": nil],
    "pid(5)": .pid(Pid(5)),
    "pid(300)": .pid(Pid(300)),
]

/// Bytes a decoder accepts though no encoder emits them, and the term each means.
private let lenientTerms: KeyValuePairs<String, Term> = [
    "int(0)/2-byte-varint": 0,
    "int(1)/10-byte-varint": 1,
    "map/unsorted": ["a": true, "b": 1],
    "map/NFC-unsorted": ["e\u{301}": nil, "f": nil],
]

/// Bytes every decoder refuses, and the error this one gives.
private let rejectedTerms: KeyValuePairs<String, TermCodecError> = [
    "unknown-tag": .unknownTag(0x0A, offset: 0),
    "trailing-byte": .trailingBytes(count: 1),
    "truncated-double": .truncated(offset: 1),
    "varint/11-bytes": .varintOverflow(offset: 1),
    "varint/65-bits": .varintOverflow(offset: 1),
    "string/overlong-utf8": .invalidUTF8(offset: 2),
    "string/surrogate": .invalidUTF8(offset: 2),
    "list/count-too-big": .truncated(offset: 1),
    "map/duplicate-key": .duplicateKey(offset: 5),
    "map/equivalent-keys": .duplicateKey(offset: 6),
]

// MARK: - Handshake and session

private let cookieFile = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n".utf8)
private let oddCookieFile = Array(" secret\t \r\n\n".utf8)
private let nodeChallenge = (0..<32).map { UInt8($0) }
private let clientChallenge = (0..<32).map { UInt8(0xA0 + $0) }
private let nodeName = "alpha"
private let callRequest = Request.call(module: "greeter", function: "greet", args: ["world"])
private let callResponse = Response.ok("hello, world")
private let stagedName = "greeter.v2-0123456789ab.so"
private let stagedBytes = Array("hello".utf8)
private let stageRequest = Request.stage(file: stagedName, size: stagedBytes.count, sha256: SHA256Hasher.hex(of: stagedBytes))
/// The upload's bytes as its two chunks carry them.
private let stageChunks = [Array(stagedBytes.prefix(3)), Array(stagedBytes.dropFirst(3))]

/// A cookie file with these bytes, read back the way client and node read it.
private func readCookie(fileBytes: [UInt8]) throws -> [UInt8] {
    var template = Array("/tmp/hot-vector-cookie-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw SystemError("mkstemp") }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    defer { unlink(path) }
    let written = writeAll(fd, fileBytes)
    close(fd)
    guard written else { throw SystemError("write \(path)") }
    return try Cookie.read(path: path)
}

/// A frame on the wire: header, type, payload and MAC.
private func wire(_ frame: Frame, mac: [UInt8] = []) -> [UInt8] {
    var bytes: [UInt8] = []
    FrameCodec.encode(frame, mac: mac, into: &bytes)
    return bytes
}

@Suite struct ProtocolVectorTests {
    @Test("every term vector of docs/PROTOCOL.md encodes and decodes as printed")
    func termVectors() throws {
        let spec = try specVectors()
        compare(spec["vectors-terms"], with: canonicalTerms.map { (key: $0.key, value: TermCodec.encode($0.value)) })
        for (name, term) in canonicalTerms {
            guard let bytes = spec["vectors-terms"]?.bytes[name] else { continue }
            #expect(try TermCodec.decode(bytes) == term, "vector \(name) does not decode to its term")
        }
    }

    @Test("the lenient vectors decode to their terms and re-encode differently; the rejected ones fail as documented")
    func lenientAndRejectedVectors() throws {
        let spec = try specVectors()
        let lenient = spec["vectors-lenient"] ?? VectorBlock()
        #expect(lenient.names == lenientTerms.map(\.key), "the document's lenient vectors are not the ones this test knows")
        for (name, term) in lenientTerms {
            guard let bytes = lenient.bytes[name] else { continue }
            #expect(try TermCodec.decode(bytes) == term, "lenient vector \(name) does not decode to its term")
            #expect(TermCodec.encode(term) != bytes, "lenient vector \(name) is what encoders emit; move it to the exact ones")
        }
        let rejected = spec["vectors-rejected"] ?? VectorBlock()
        #expect(rejected.names == rejectedTerms.map(\.key), "the document's rejected vectors are not the ones this test knows")
        for (name, expected) in rejectedTerms {
            guard let bytes = rejected.bytes[name] else { continue }
            #expect(throws: expected, "rejected vector \(name)") { try TermCodec.decode(bytes) }
        }
    }

    @Test("the handshake and session vectors of docs/PROTOCOL.md are what the code sends")
    func handshakeAndSessionVectors() throws {
        let spec = try specVectors()
        let secret = try readCookie(fileBytes: cookieFile)
        let oddSecret = try readCookie(fileBytes: oddCookieFile)

        let node = NodeHandshake(cookie: secret, nodeName: nodeName, challenge: nodeChallenge)
        var client = ClientHandshake(cookie: secret, challenge: clientChallenge)
        let hello = node.hello()
        let challenge = try client.answer(hello)
        let (welcome, nodeSessionStart) = try node.accept(challenge)
        let clientSessionStart = try client.finish(welcome)
        var nodeSession = nodeSessionStart
        var clientSession = clientSessionStart
        let sessionKey = Handshake.sessionKey(cookie: secret, node: nodeChallenge, client: clientChallenge)

        // Two exchanges, so that both sequence numbers reach 1.
        let request1 = Frame(.request, TermCodec.encode(callRequest.term))
        let request1MAC = clientSession.seal(request1)
        try nodeSession.open(request1, mac: request1MAC)
        let response1 = Frame(.response, TermCodec.encode(callResponse.term))
        let response1MAC = nodeSession.seal(response1)
        try clientSession.open(response1, mac: response1MAC)
        let request2 = Frame(.request, TermCodec.encode(Request.ping.term))
        let request2MAC = clientSession.seal(request2)
        try nodeSession.open(request2, mac: request2MAC)
        let response2 = Frame(.response, TermCodec.encode(Response.ok(.string(nodeName)).term))
        let response2MAC = nodeSession.seal(response2)
        try clientSession.open(response2, mac: response2MAC)

        // Then an upload, continuing the session: the request and its two
        // chunks (client sequence 2, 3, 4), and the one response (node 2).
        let request3 = Frame(.request, TermCodec.encode(stageRequest.term))
        let request3MAC = clientSession.seal(request3)
        try nodeSession.open(request3, mac: request3MAC)
        var chunkWire: [[UInt8]] = []
        for bytes in stageChunks {
            let chunk = Frame(.chunk, bytes)
            let mac = clientSession.seal(chunk)
            try nodeSession.open(chunk, mac: mac)
            chunkWire.append(wire(chunk, mac: mac))
        }
        let response3 = Frame(.response, TermCodec.encode(Response.ok(StageReply(file: stagedName).term).term))
        let response3MAC = nodeSession.seal(response3)
        try clientSession.open(response3, mac: response3MAC)

        // The MAC's input as the document spells it out: direction, sequence
        // (8 bytes, big-endian), type, payload; keyed by the session key.
        let macInput = [0x43] + [0, 0, 0, 0, 0, 0, 0, 0] + [FrameType.request.rawValue] + request1.payload
        #expect(hmacSHA256(key: sessionKey, macInput) == request1MAC, "the MAC input the document gives is not what the session MACs")

        let handshakeVectors: KeyValuePairs<String, [UInt8]> = [
            "cookie-file": cookieFile,
            "secret": secret,
            "odd-cookie-file": oddCookieFile,
            "odd-secret": oddSecret,
            "node-challenge": nodeChallenge,
            "client-challenge": clientChallenge,
            "hello": wire(hello),
            "client-proof": Handshake.clientProof(cookie: secret, node: nodeChallenge, client: clientChallenge),
            "challenge": wire(challenge),
            "node-proof": Handshake.nodeProof(cookie: secret, node: nodeChallenge, client: clientChallenge),
            "welcome": wire(welcome),
            "session-key": sessionKey,
            "refusal": wire(Handshake.refusal(reason: Handshake.busy)),
        ]
        compare(spec["vectors-handshake"], with: handshakeVectors)
        let sessionVectors: KeyValuePairs<String, [UInt8]> = [
            "request-1-payload": request1.payload,
            "request-1-mac-input": macInput,
            "request-1-mac": request1MAC,
            "request-1": wire(request1, mac: request1MAC),
            "response-1": wire(response1, mac: response1MAC),
            "request-2": wire(request2, mac: request2MAC),
            "response-2": wire(response2, mac: response2MAC),
        ]
        compare(spec["vectors-session"], with: sessionVectors)
        let stageVectors: KeyValuePairs<String, [UInt8]> = [
            "request-3": wire(request3, mac: request3MAC),
            "chunk-1": chunkWire[0],
            "chunk-2": chunkWire[1],
            "response-3": wire(response3, mac: response3MAC),
        ]
        compare(spec["vectors-stage"], with: stageVectors)
    }

    @Test("the document's frames, fed to the real decoders, run the handshake and open under the session")
    func specFramesDecode() throws {
        let spec = try specVectors()
        let handshake = spec["vectors-handshake"]?.bytes ?? [:]
        let session = spec["vectors-session"]?.bytes ?? [:]
        let secret = handshake["secret"] ?? []

        var decoder = FrameDecoder()
        for name in ["hello", "challenge", "welcome"] { decoder.append(handshake[name] ?? []) }
        let hello = try #require(try decoder.next()).frame
        let challenge = try #require(try decoder.next()).frame
        let welcome = try #require(try decoder.next()).frame

        var client = ClientHandshake(cookie: secret, challenge: handshake["client-challenge"] ?? [])
        #expect(try client.answer(hello) == challenge)
        let node = NodeHandshake(cookie: secret, nodeName: nodeName, challenge: handshake["node-challenge"] ?? [])
        let (ownWelcome, nodeSessionStart) = try node.accept(challenge)
        #expect(ownWelcome == welcome)
        var clientSession = try client.finish(welcome)
        var nodeSession = nodeSessionStart

        var nodeSide = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
        nodeSide.macLength = FrameLimits.macLength
        var clientSide = nodeSide
        for name in ["request-1", "request-2"] { nodeSide.append(session[name] ?? []) }
        for name in ["response-1", "response-2"] { clientSide.append(session[name] ?? []) }
        for expected in [callRequest, .ping] {
            let (frame, mac) = try #require(try nodeSide.next())
            try nodeSession.open(frame, mac: mac)
            #expect(try Request(term: TermCodec.decode(frame.payload)) == expected)
        }
        for expected in [callResponse, .ok(.string(nodeName))] {
            let (frame, mac) = try #require(try clientSide.next())
            try clientSession.open(frame, mac: mac)
            #expect(try Response(term: TermCodec.decode(frame.payload)) == expected)
        }

        // The upload: a request, chunks whose bytes hash to its sha256, one response.
        let stage = spec["vectors-stage"]?.bytes ?? [:]
        for name in ["request-3", "chunk-1", "chunk-2"] { nodeSide.append(stage[name] ?? []) }
        clientSide.append(stage["response-3"] ?? [])
        let (requestFrame, requestMAC) = try #require(try nodeSide.next())
        try nodeSession.open(requestFrame, mac: requestMAC)
        #expect(requestFrame.type == .request)
        #expect(try Request(payload: requestFrame.payload) == stageRequest)
        var uploaded: [UInt8] = []
        while let next = try nodeSide.next() {
            let (chunk, mac) = next
            try nodeSession.open(chunk, mac: mac)
            #expect(chunk.type == .chunk)
            uploaded += chunk.payload
        }
        #expect(uploaded == stagedBytes)
        if case .stage(_, let size, let sha256) = stageRequest {
            #expect(size == uploaded.count && sha256 == SHA256Hasher.hex(of: uploaded))
        }
        let (responseFrame, responseMAC) = try #require(try clientSide.next())
        try clientSession.open(responseFrame, mac: responseMAC)
        let response = try Response(payload: responseFrame.payload)
        guard case .ok(let result) = response else {
            Issue.record("\(response)")
            return
        }
        #expect(try StageReply(term: result) == StageReply(file: stagedName))

        // The refusal frame an evicted handshake gets reads as "busy".
        var refusalSide = FrameDecoder()
        refusalSide.append(handshake["refusal"] ?? [])
        let refusal = try #require(try refusalSide.next()).frame
        var refused = ClientHandshake(cookie: secret, challenge: handshake["client-challenge"] ?? [])
        _ = try refused.answer(hello)
        #expect(throws: WireError.refused(reason: Handshake.busy)) { try refused.finish(refusal) }
    }
}
