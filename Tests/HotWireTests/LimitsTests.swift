import Hot
import HotPlatform
import HotWire
import Testing

/// A list nested `depth` levels deep: `[[...[1]...]]`.
private func nested(_ depth: Int) -> Term {
    var term: Term = 1
    for _ in 0..<depth { term = .list([term]) }
    return term
}

private func badMessageReason(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        if case .badMessage(let reason)? = error as? WireError { return reason }
        return "not a badMessage: \(error)"
    }
}

/// The limits of docs/PROTOCOL.md apply to what the client sends, not to the
/// protocol's own wrapping, and hold for what the node sends back.
@Suite struct LimitsTests {
    @Test("an argument gets the full documented depth; the request's wrapper does not count")
    func argumentDepth() throws {
        let deepest = Request.call(module: "m", function: "f", args: [nested(TermCodec.maxDepth)])
        #expect(try Request(payload: TermCodec.encode(deepest.term)) == deepest)
        let message = Request.send(to: "x", message: nested(TermCodec.maxDepth))
        #expect(try Request(payload: TermCodec.encode(message.term)) == message)

        let tooDeep = TermCodec.encode(Request.call(module: "m", function: "f", args: [nested(TermCodec.maxDepth + 1)]).term)
        let reason = badMessageReason { _ = try Request(payload: tooDeep) }
        #expect(reason?.contains("\(TermCodec.maxDepth)") == true, "the reason names the limit: \(reason ?? "accepted")")
        let deeper = TermCodec.encode(Request.call(module: "m", function: "f", args: [nested(TermCodec.maxDepth + 3)]).term)
        #expect(badMessageReason { _ = try Request(payload: deeper) } != nil)
    }

    @Test("malformed requests are refused with a reason that says what is wrong")
    func malformedRequests() {
        let cases: [(String, [UInt8], String)] = [
            ("not a map", TermCodec.encode(["op", "ping"]), "must be a map"),
            ("no op", TermCodec.encode(["module": "m"]), "no op"),
            ("op not a string", TermCodec.encode(["op": 7]), "op must be a string"),
            ("unknown op", TermCodec.encode(["op": "explode"]), "unknown op 'explode'"),
            ("missing field", TermCodec.encode(["op": "call", "module": "m"]), "call needs module, function and args"),
            ("mistyped field", TermCodec.encode(["op": "purge", "module": 3]), "purge needs module"),
            ("negative size", TermCodec.encode(["op": "stage", "file": "a.v1-0123456789ab.so", "size": -1, "sha256": ""]), "must not be negative"),
            ("invalid UTF-8", [8, 1, 2, 0x6F, 0x70, 5, 2, 0xC3, 0x28], "invalid UTF-8"),
            ("duplicate keys", [8, 2, 2, 0x6F, 0x70, 0, 2, 0x6F, 0x70, 0], "duplicate map key"),
            ("trailing bytes", TermCodec.encode(["op": "ping"]) + [0], "trailing byte"),
        ]
        for (name, payload, expected) in cases {
            let reason = badMessageReason { _ = try Request(payload: payload) }
            #expect(reason?.contains(expected) == true, "\(name): \(reason ?? "accepted")")
        }
        let longOp = String(repeating: "x", count: 10_000)
        let reason = badMessageReason { _ = try Request(payload: TermCodec.encode(["op": .string(longOp)])) } ?? ""
        #expect(reason.utf8.count < 200, "an unknown op is quoted only in part: \(reason.utf8.count) bytes")
    }

    @Test("a response holds to the frame limit: long messages are cut, oversized results refused")
    func responseBounds() throws {
        let frameRoom = FrameLimits.maxFrameLength - 1 - FrameLimits.macLength
        // A message quoting a 5 MB name back.
        let long = Response.error(code: .undefined, message: "no function " + String(repeating: "é", count: 2_500_000))
        let cut = try Response(payload: long.boundedPayload())
        guard case .error(let code, let message) = cut else {
            Issue.record("\(cut)")
            return
        }
        #expect(code == .undefined)
        #expect(message.hasPrefix("no function éé") && message.hasSuffix("…"))
        #expect(message.utf8.count <= Response.maxMessageLength)

        let huge = Response.ok(.bytes([UInt8](repeating: 7, count: FrameLimits.maxFrameLength)))
        let refused = try Response(payload: huge.boundedPayload())
        guard case .error(let hugeCode, let hugeMessage) = refused else {
            Issue.record("a result over the frame limit was sent: \(huge.boundedPayload().count) bytes")
            return
        }
        #expect(hugeCode == .failed)
        #expect(hugeMessage.contains("at most \(frameRoom)"), "\(hugeMessage)")

        let tooDeep = try Response(payload: Response.ok(nested(TermCodec.maxDepth + 1)).boundedPayload())
        if case .error(_, let why) = tooDeep { #expect(why.contains("levels deep")) } else { Issue.record("\(tooDeep)") }

        // What fits goes unchanged, the deepest allowed result included.
        for fits in [Response.ok(nested(TermCodec.maxDepth)), .ok(.bytes([UInt8](repeating: 1, count: 1 << 20))), .error(code: .raised, message: "short")] {
            #expect(try Response(payload: fits.boundedPayload()) == fits)
        }
    }
}
