// A libFuzzer target for the control protocol's parsers and state machines:
// the frame decoder (fed in pieces), the term codec, requests and responses,
// both sides of the handshake, the session's MAC check, and the small text
// parsers a node applies to what a peer or an object file hands it.
//
// Built and run by scripts/fuzz.sh (`make fuzz`). Besides "never crash", it
// checks properties whose violation would be a protocol bug; a violated
// property traps, and libFuzzer keeps the input as a crash reproducer.
//
// The first input byte picks the mode; the rest is the mode's input:
//   0  a byte stream as a node sees it before the handshake
//   1  a byte stream as a node sees it after the handshake (MACs checked)
//   2  a term: codec, requests, responses, JSON, names
//   3  frames a client seals in a real session, fed to the node's side

import Hot
import HotPlatform
import HotWire
#if canImport(Glibc)
import Glibc
#endif

/// Fixed secrets and challenges, so that every crash reproduces from its input alone.
private let cookie = Array("fuzz-cookie-0123456789abcdef0123".utf8)
private let nodeChallenge = [UInt8](repeating: 0x4E, count: Handshake.challengeLength)
private let clientChallenge = [UInt8](repeating: 0x43, count: Handshake.challengeLength)
private let sessionKey = [UInt8](repeating: 0x5A, count: 32)
/// Work per input stays bounded whatever its length.
private let maxFrames = 32

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let rest = Array(input.dropFirst())
    switch input[0] & 3 {
    case 0: stream(rest, authenticated: false)
    case 1: stream(rest, authenticated: true)
    case 2: term(rest)
    default: sealed(rest)
    }
    return 0
}

/// A property that must hold; a violation traps and becomes a reproducer.
@inline(never)
private func require(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fatalError("property violated: \(what())") }
}

// MARK: mode 0 and 1: a stream of bytes from a peer

/// Splits `bytes` into frames twice, whole and in pieces whose sizes the
/// input chooses; both must give the same frames and the same error. Each
/// frame then goes where the node (or the client) would send it.
private func stream(_ bytes: [UInt8], authenticated: Bool) {
    guard let step = bytes.first else { return }
    let body = Array(bytes.dropFirst())
    let whole = frames(of: body, authenticated: authenticated, pieces: [body.count])
    var pieces: [Int] = []
    var left = body.count
    var i = 0
    while left > 0 {
        let n = min(left, 1 + Int(step &+ UInt8(truncatingIfNeeded: i &* 31)) % 97)
        pieces.append(n)
        left -= n
        i += 1
    }
    let split = frames(of: body, authenticated: authenticated, pieces: pieces)
    require(whole.frames.count == split.frames.count, "frame count depends on chunking: \(whole.frames.count) vs \(split.frames.count)")
    for (a, b) in zip(whole.frames, split.frames) { require(a.frame == b.frame && a.mac == b.mac, "frames depend on chunking") }
    require(whole.error == split.error, "error depends on chunking: \(String(describing: whole.error)) vs \(String(describing: split.error))")

    if authenticated {
        // The node's side of an established session under the fixed key
        // (the seeds carry frames sealed under it, so that mutations reach
        // past the check): a frame that passes goes on as a message; the
        // first that fails ends the connection, as the node ends it.
        var session = Session(key: sessionKey, isNode: true)
        for (frame, mac) in whole.frames {
            do { try session.open(frame, mac: mac) } catch { break }
            message(frame.payload)
        }
    } else {
        let node = NodeHandshake(cookie: cookie, nodeName: "fuzz", challenge: nodeChallenge)
        var client = ClientHandshake(cookie: cookie, challenge: clientChallenge)
        var answered = false
        for (frame, mac) in whole.frames {
            require(mac.isEmpty, "a MAC before the handshake")
            // As the node: a proof is checked, never trusted (the fuzzer may
            // only stumble on the right one for the fixed challenges).
            _ = try? node.accept(frame)
            // As the client: a hello, then a welcome.
            if !answered {
                if (try? client.answer(frame)) != nil { answered = true }
            } else {
                _ = try? client.finish(frame)
            }
            message(frame.payload)
        }
        // A welcome before any hello is refused.
        if let first = whole.frames.first?.frame {
            let fresh = ClientHandshake(cookie: cookie, challenge: clientChallenge)
            require((try? fresh.finish(first)) == nil, "a welcome accepted before a hello")
        }
    }
}

private struct Decoded {
    var frames: [(frame: Frame, mac: [UInt8])] = []
    var error: WireError?
}

private func frames(of bytes: [UInt8], authenticated: Bool, pieces: [Int]) -> Decoded {
    var decoder = FrameDecoder(maxLength: authenticated ? FrameLimits.maxFrameLength : FrameLimits.maxHandshakeFrameLength)
    decoder.macLength = authenticated ? FrameLimits.macLength : 0
    var result = Decoded()
    var offset = 0
    for n in pieces {
        decoder.append(bytes[offset..<(offset + n)])
        offset += n
        do {
            while let next = try decoder.next() {
                require(next.mac.count == decoder.macLength, "MAC of \(next.mac.count) bytes")
                result.frames.append(next)
                if result.frames.count >= maxFrames { return result }
            }
        } catch {
            result.error = error
            return result
        }
    }
    require(decoder.bufferedCount >= 0 && decoder.bufferedCount <= bytes.count, "buffered count out of range")
    return result
}

// MARK: mode 2: terms and text

/// A payload as the node and the client read it.
private func message(_ payload: [UInt8]) {
    guard let term = try? TermCodec.decode(payload) else { return }
    // Encoding is canonical: decode(encode(t)) encodes to the same bytes.
    let encoded = TermCodec.encode(term)
    guard let again = try? TermCodec.decode(encoded) else { fatalError("an encoded term does not decode") }
    require(TermCodec.encode(again) == encoded, "encoding is not canonical")
    if let request = try? Request(term: term) {
        // What the node understood survives the trip back to a term.
        guard let reread = try? Request(term: request.term) else { fatalError("a request's own term is refused: \(request)") }
        require(TermCodec.encode(reread.term) == TermCodec.encode(request.term), "request round trip")
        names(in: request)
    }
    if let response = try? Response(term: term) {
        _ = response.term
    }
    _ = JSON.render(term, pretty: true)
}

private func term(_ bytes: [UInt8]) {
    message(bytes)
    var reader = ByteReader(bytes)
    while !reader.isAtEnd, (try? TermCodec.decode(from: &reader)) != nil {}
    _ = try? JSON.parse(bytes)
    text(String(decoding: bytes, as: UTF8.self))
}

/// Names a node turns into paths: they must never leave the staging folder.
private func names(in request: Request) {
    switch request {
    case .stage(let file, _, _): text(file)
    case .load(let files, _, _), .check(let files): for file in files { text(file) }
    default: break
    }
}

private func text(_ string: String) {
    if let name = ArtifactName(fileName: string) {
        require(!string.contains("/") && !string.hasPrefix("."), "an artifact name that is a path: \(string)")
        require(name.fileName == string, "artifact name does not round-trip: \(string) -> \(name.fileName)")
        require(HotSDK.isValidModuleName(name.module), "invalid module name accepted: \(name.module)")
    }
    _ = ModuleDescriptor(parsing: string)
    _ = NodeAddress(parsing: string)
    _ = JSON.parseWord(string)
}

// MARK: mode 3: frames sealed in a real session

/// Runs a real handshake, then seals input-chosen frames as the client and
/// feeds their bytes to the node's decoder and session: each must come out
/// as it went in and pass the MAC; one input-chosen bit flip must not.
private func sealed(_ bytes: [UInt8]) {
    let node = NodeHandshake(cookie: cookie, nodeName: "fuzz", challenge: nodeChallenge)
    var client = ClientHandshake(cookie: cookie, challenge: clientChallenge)
    guard let challenge = try? client.answer(node.hello()), let (welcome, nodeSessionStart) = try? node.accept(challenge),
        let clientSessionStart = try? client.finish(welcome)
    else { fatalError("the honest handshake failed") }
    var clientSession = clientSessionStart
    var nodeSession = nodeSessionStart
    var decoder = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
    decoder.macLength = FrameLimits.macLength

    let types: [FrameType] = [.request, .chunk, .response, .hello, .challenge, .welcome, .refusal]
    var i = 0
    var count = 0
    while i + 2 <= bytes.count && count < maxFrames {
        let control = bytes[i]
        let length = min(Int(bytes[i + 1]) << (control & 0x40 != 0 ? 4 : 0), bytes.count - i - 2)
        let payload = Array(bytes[(i + 2)..<(i + 2 + length)])
        i += 2 + length
        count += 1
        let frame = Frame(types[Int(control & 0x0F) % types.count], payload)
        var wire: [UInt8] = []
        FrameCodec.encode(frame, mac: clientSession.seal(frame), into: &wire)
        if control & 0x80 != 0, !wire.isEmpty {
            // Tamper with one bit past the length header: the frame must not open.
            let selector = Int(control) &* 7 &+ Int(bytes[i - length - 1]) &* 13
            wire[4 + selector % (wire.count - 4)] ^= 1 << (control & 7)
            decoder.append(wire)
            guard let (got, mac) = try? decoder.next() else { return }
            do {
                try nodeSession.open(got, mac: mac)
                fatalError("a tampered frame passed the MAC check")
            } catch {}
            return
        }
        // Fed in two pieces split where the input says.
        let cut = Int(control) % (wire.count + 1)
        decoder.append(wire[..<cut])
        if cut < wire.count {
            let early = try? decoder.next()
            require(early == nil, "a frame came out before its last byte")
        }
        decoder.append(wire[cut...])
        guard let (got, mac) = try? decoder.next() else { fatalError("a sealed frame did not decode") }
        require(got == frame, "a frame changed on the way")
        do { try nodeSession.open(got, mac: mac) } catch { fatalError("an honest frame failed its MAC: \(error)") }
        if frame.type == .request { message(payload) }
    }
    // A frame reflected back at its sender, or replayed, fails.
    let probe = Frame(.request, Array(bytes.prefix(16)))
    let mac = clientSession.seal(probe)
    do {
        try clientSession.open(probe, mac: mac)
        fatalError("a reflected frame passed the MAC check")
    } catch {}
    do { try nodeSession.open(probe, mac: mac) } catch { fatalError("the probe failed its MAC") }
    do {
        try nodeSession.open(probe, mac: mac)
        fatalError("a replayed frame passed the MAC check")
    } catch {}
}

// MARK: seeds

/// libFuzzer calls this once before the first input. With HOT_FUZZ_SEEDS set
/// to a folder, it writes there one seed per mode made of real protocol
/// traffic (a whole handshake, every request), so that the fuzzer starts
/// past the shallow refusals.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    guard let folder = getenv("HOT_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    try? makeDirectories(folder)
    var seeds: [String: [UInt8]] = [:]

    let requests: [Request] = [
        .ping, .status, .stop,
        .call(module: "hello", function: "greet", args: [.string("bob"), .int(-3), .double(1.5), .list([.null, .bool(true)]), .bytes([1, 2])]),
        .stage(file: "hello.v2-0123456789ab.so", size: 1024, sha256: String(repeating: "ab", count: 32)),
        .load(files: ["hello.v2-0123456789ab.so", "t2.v10-abcdef012345.so"], purge: true, force: false),
        .spawn(module: "t2", function: "loop", args: [.int(0)], name: "looper"),
        .send(to: "<0.1.0>", message: ["ping": "a"]),
        .purge(module: "t2", soft: true), .delete(module: "t2"),
        .check(files: ["hello.v2-0123456789ab.so"]), .makePermanent(modules: ["hello"]), .rollback(module: "hello"),
    ]
    let responses: [Response] = [.ok(["module": "hello", "from": 1, "to": 2]), .error(code: .badUpload, message: "no")]

    // A whole handshake as both sides see it.
    let node = NodeHandshake(cookie: cookie, nodeName: "fuzz", challenge: nodeChallenge)
    var client = ClientHandshake(cookie: cookie, challenge: clientChallenge)
    var transcript: [UInt8] = []
    FrameCodec.encode(node.hello(), into: &transcript)
    if let challenge = try? client.answer(node.hello()), let (welcome, _) = try? node.accept(challenge) {
        FrameCodec.encode(challenge, into: &transcript)
        FrameCodec.encode(welcome, into: &transcript)
    }
    seeds["stream-handshake"] = [0, 7] + transcript

    // Sealed requests under the fixed session key, as mode 1 reads them.
    var session = Session(key: sessionKey, isNode: false)
    var sealedStream: [UInt8] = []
    var framed: [UInt8] = []
    for (index, request) in requests.enumerated() {
        let payload = TermCodec.encode(request.term)
        let frame = Frame(.request, payload)
        FrameCodec.encode(frame, mac: session.seal(frame), into: &sealedStream)
        seeds["term-\(index)"] = [2] + payload
        if payload.count < 256 { framed += [0x00, UInt8(payload.count)] + payload }
    }
    seeds["stream-sealed"] = [1, 13] + sealedStream
    seeds["sealed-requests"] = [3] + framed + [0x81, 4, 1, 2, 3, 4]
    for (index, response) in responses.enumerated() { seeds["response-\(index)"] = [2] + TermCodec.encode(response.term) }

    for (name, bytes) in seeds { try? writeFileAtomically(folder + "/" + name, bytes) }
    return 0
}
