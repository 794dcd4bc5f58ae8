import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// Floods, slow clients, malformed requests and oversized answers: the
/// node's limits hold, and whatever it refuses it answers, where the
/// connection can still carry an answer.
extension BadInputTests {
    /// A JSON array nested `depth` deep around `"x"`.
    private static func nestedJSON(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + "\"x\"" + String(repeating: "]", count: depth)
    }

    /// A term nested `depth` lists deep.
    private static func nestedTerm(_ depth: Int) -> Term {
        var term: Term = "x"
        for _ in 0..<depth { term = .list([term]) }
        return term
    }

    /// A request frame's payload, sealed and sent as is (it may be no request at all).
    private static func sendPayload(_ payload: [UInt8], on client: RawClient) throws -> Response {
        try client.send(Frame(.request, payload))
        return try client.receiveResponse()
    }

    // MARK: admission

    @Test("a flood of connections without the cookie locks no client out, and the log gets a summary, not a line each")
    func floodWithoutCookie() throws {
        let node = try sharedNode()
        let path = node.socketPath
        let logBefore = node.log().split(separator: "\n").count

        // The baseline: how long a call takes on a quiet node.
        var quiet: [Double] = []
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let call = try node.hot(["call", "hello:greet", "quiet"])
            #expect(call.status == 0, "\(call)")
            quiet.append(seconds(since: started))
        }

        // Two threads connect as fast as they can for a few seconds, each
        // holding up to 64 connections open (never answering the hello)
        // and dropping its oldest: every handshake slot stays taken.
        let flood = Flood()
        let flooders = (0..<2).map { _ in
            Thread {
                var held: [Int32] = []
                var count = 0
                while !flood.stop.load(ordering: .relaxed) && count < 60_000 {
                    if case .success(let fd) = connectUnix(path) {
                        held.append(fd)
                        count += 1
                        flood.opened.add(1, ordering: .relaxed)
                    }
                    if held.count > 64 { close(held.removeFirst()) }
                }
                for fd in held { close(fd) }
                flood.finished.add(1, ordering: .relaxed)
            }
        }
        let floodStarted = ContinuousClock.now
        for flooder in flooders { flooder.start() }
        defer {
            flood.stop.store(true, ordering: .relaxed)
            while flood.finished.load(ordering: .relaxed) < flooders.count { usleep(10_000) }
        }

        // Meanwhile, clients with the cookie (other processes: the flood
        // shares its source with everything in this one) keep calling.
        var durations: [Double] = []
        var failures: [String] = []
        usleep(300_000)
        while seconds(since: floodStarted) < 5 {
            let started = ContinuousClock.now
            let call = try node.hot(["call", "hello:greet", "flooded"])
            durations.append(seconds(since: started))
            if call.status != 0 || call.stdout != "\"Hello, flooded!\"\n" { failures.append("hot call: \(call)") }
        }
        flood.stop.store(true, ordering: .relaxed)
        let floodSeconds = seconds(since: floodStarted)
        while flood.finished.load(ordering: .relaxed) < flooders.count { usleep(10_000) }
        let connections = flood.opened.load(ordering: .relaxed)

        let sorted = durations.sorted()
        func ms(_ s: Double) -> String { "\(Int((s * 1000).rounded())) ms" }
        let report = "flood: \(connections) connections in \(ms(floodSeconds)) (\(Int(Double(connections) / floodSeconds))/s); "
            + "\(durations.count) hot calls, \(failures.count) failed; quiet call \(ms(quiet.sorted()[1])), "
            + "flooded median \(ms(sorted.isEmpty ? 0 : sorted[sorted.count / 2])), max \(ms(sorted.last ?? 0))"
        print(report)
        #expect(connections > 1_000, "the flood was too weak to test anything: \(report)")
        #expect(failures.isEmpty, "legitimate calls failed during the flood: \(failures.prefix(3)); \(report)")
        #expect(durations.count >= 6, "\(report)")

        // The log: a line now and then, never one per refused connection;
        // the summary of the interval arrives by itself once it is over.
        let deadline = Date().addingTimeInterval(Double(12))
        var added: [Substring] = []
        repeat {
            usleep(250_000)
            added = node.log().split(separator: "\n").dropFirst(logBefore).map { $0 }
        } while !added.contains(where: { $0.contains("more connections in the last") }) && Date() < deadline
        let refusalLines = added.filter { $0.contains("refused") }
        #expect(refusalLines.count <= 6, "\(refusalLines.count) log lines for \(connections) refusals: \(refusalLines.prefix(4))")
        #expect(added.contains { $0.contains("more connections in the last") && $0.contains("evicted by newer connections") },
            "no summary of the refusals: \(added.suffix(4))")
        try node.expectUnharmed()
    }

    @Test("a client sending its handshake a byte a second is cut off at the whole-handshake deadline")
    func slowHandshake() throws {
        let node = try sharedNode()
        let client = try node.raw(timeoutMilliseconds: 10_000)
        let started = ContinuousClock.now
        _ = try client.receiveHello()
        // A challenge frame announcing 300 bytes, sent a byte a second:
        // every read is shorter than the deadline, the whole is not.
        var bytes: [UInt8] = []
        FrameCodec.encode(Frame(.challenge, randomBytes(300)), into: &bytes)
        var end = ConnectionEnd.stillOpen
        for byte in bytes.prefix(12) {
            guard (try? client.write([byte])) != nil else {
                end = .closed
                break
            }
            end = client.awaitEnd(seconds: 1)
            if end != .stillOpen { break }
        }
        let waited = seconds(since: started)
        #expect(end == .closed, "the node must close a handshake that outlives its deadline: \(end) after \(waited) s")
        let deadline = Double(2)  // ControlServer.handshakeTimeout
        #expect(waited >= deadline - 0.2 && waited < deadline + 1.5, "cut off after \(waited) s; the deadline is \(deadline) s")
        try node.expectUnharmed()
    }

    // MARK: malformed requests

    @Test("every malformed request is answered badRequest with its reason, and the connection goes on")
    func malformedRequestsAnswered() throws {
        let node = try sharedNode()
        let client = try node.authenticated()
        let cases: [(String, [UInt8], String)] = [
            ("unknown op", TermCodec.encode(["op": "explode"]), "unknown op"),
            ("missing field", TermCodec.encode(["op": "call", "module": "hello"]), "needs module, function and args"),
            ("mistyped field", TermCodec.encode(["op": "call", "module": "hello", "function": 1, "args": []]), "needs module"),
            ("non-map request", TermCodec.encode(["op", "ping"]), "must be a map"),
            ("negative size", TermCodec.encode(["op": "stage", "file": "a.v1-0123456789ab.so", "size": -5, "sha256": ""]), "negative"),
            ("invalid UTF-8", [8, 1, 2, 0x6F, 0x70, 5, 2, 0xC3, 0x28], "UTF-8"),
            ("duplicate keys", [8, 2, 2, 0x6F, 0x70, 0, 2, 0x6F, 0x70, 0], "duplicate"),
            ("nesting too deep", TermCodec.encode(Request.call(module: "hello", function: "greet", args: [Self.nestedTerm(129)]).term), "128"),
            ("not a term", [0xFF, 0xFF], "unknown tag"),
        ]
        for (name, payload, reason) in cases {
            let response = try Self.sendPayload(payload, on: client)
            guard case .error(let code, let message) = response else {
                Issue.record("\(name): answered \(response)")
                continue
            }
            #expect(code == .badRequest, "\(name): \(response)")
            #expect(message.contains(reason), "\(name): the answer must say why: \(message)")
        }
        // A chunk with no upload under way is dropped unanswered: the next
        // response is the next request's.
        try client.send(Frame(.chunk, [1, 2, 3]))
        #expect(try client.request(.ping) == .ok(.string("app")), "the connection goes on after every refusal, in step")

        // Arguments get the whole documented depth: 128 levels reach the
        // function (which refuses the shape), they are not a bad request.
        let deepest = try client.request(.call(module: "hello", function: "greet", args: [Self.nestedTerm(128)]))
        if case .error(let code, _) = deepest { #expect(code == .badArgument, "\(deepest)") } else { Issue.record("\(deepest)") }
        try node.expectUnharmed()
    }

    @Test("a response holds to the frame limit: a long name is quoted back cut short")
    func longNameAnswerIsBounded() throws {
        let node = try sharedNode()
        let client = try node.authenticated()
        let name = String(repeating: "f", count: 4_000_000)
        let answer = try client.request(.call(module: "hello", function: name, args: []))
        guard case .error(let code, let message) = answer else {
            Issue.record("a call of a 4 MB name answered \(answer)")
            return
        }
        #expect(code == .undefined, "\(code)")
        #expect(message.utf8.count <= Response.maxMessageLength && message.hasSuffix("…"), "a message of \(message.utf8.count) bytes")
        #expect(try client.request(.ping) == .ok(.string("app")))
        try node.expectUnharmed()
    }

    @Test("hot call with JSON nested beyond the limit: a usage error (exit 2), never sent as a string")
    func deepJSONArgument() throws {
        let node = try sharedNode()
        for depth in [129, 256, 257, 400] {
            let call = try node.hot(["call", "hello:greet", Self.nestedJSON(depth)])
            #expect(call.status == 2, "nested \(depth) deep: \(call)")
            #expect(call.stderr.contains("deep") || call.stderr.contains("deeper"), "nested \(depth) deep: \(call)")
            #expect(call.stdout.isEmpty, "nested \(depth) deep: \(call)")
        }
        // 128 deep reaches the node, which refuses the shape as an argument (not exit 2).
        let fits = try node.hot(["call", "hello:greet", Self.nestedJSON(128)])
        #expect(fits.status == 1, "\(fits)")
        // A bare word that is not JSON is still a string.
        let word = try node.hot(["call", "hello:greet", "[bob"])
        #expect(word.status == 0 && word.stdout == "\"Hello, [bob!\"\n", "\(word)")
        try node.expectUnharmed()
    }

    // MARK: stage refusals

    @Test("a refused stage is answered where the client reads it, after streaming its chunks")
    func refusedStageIsRead() throws {
        let node = try sharedNode()
        let stagedBefore = try node.staged()
        let content = randomBytes(2 << 20)
        let client = try node.authenticated()
        // A bad name, then chunks streamed before reading anything: the
        // client must read the refusal, not fail a write.
        try client.write(try client.sealed(Request.stage(file: "../evil.v1-0123456789ab.so", size: content.count, sha256: SHA256Hasher.hex(of: content))))
        for offset in stride(from: 0, to: content.count, by: 1 << 20) {
            try client.send(Frame(.chunk, Array(content[offset..<min(offset + (1 << 20), content.count)])))
        }
        let refusal = try client.receiveResponse()
        if case .error(let code, _) = refusal { #expect(code == .badRequest, "\(refusal)") } else { Issue.record("\(refusal)") }
        #expect(try client.request(.ping) == .ok(.string("app")), "the chunks were dropped; the connection goes on")

        // The product's client gets the node's reason, not a broken pipe.
        let file = node.scratch.path("big.bin")
        try Data(content).write(to: URL(fileURLWithPath: file))
        do {
            try node.client().stage(path: file, fileName: "../big.v1-0123456789ab.so")
            Issue.record("a bad name was staged")
        } catch {
            guard case .failed(let code, _)? = error as? ClientError else {
                Issue.record("the client saw no answer: \(error)")
                return
            }
            #expect(code == .badRequest)
        }
        #expect(try node.staged() == stagedBefore)
        try node.expectUnharmed()
    }

    @Test("staging a name already staged with other bytes is refused, naming both digests; the same bytes again are fine")
    func restagingWithOtherBytes() throws {
        let node = try sharedNode()
        let name = "restage.v1-0123456789ab.so"
        let first = node.scratch.path("restage-a.bin")
        let second = node.scratch.path("restage-b.bin")
        let a = randomBytes(256 << 10)
        let b = randomBytes(256 << 10)
        try Data(a).write(to: URL(fileURLWithPath: first))
        try Data(b).write(to: URL(fileURLWithPath: second))
        defer { try? FileManager.default.removeItem(atPath: node.stagedPath + "/" + name) }

        let client = try node.client()
        try client.stage(path: first, fileName: name)
        try client.stage(path: first, fileName: name)  // the same bytes: fine
        do {
            try client.stage(path: second, fileName: name)
            Issue.record("other bytes replaced a staged file under its name")
        } catch {
            guard case .failed(let code, let message) = error else {
                Issue.record("no answer: \(error)")
                return
            }
            #expect(code == .badUpload)
            #expect(message.contains(SHA256Hasher.hex(of: a)) && message.contains(SHA256Hasher.hex(of: b)), "\(message)")
        }
        #expect(readFile(node.stagedPath + "/" + name) == a, "the staged bytes must stay the first upload's")
        #expect(try client.request(.ping).node == "app", "the client's connection goes on")

        // A loaded version's file, too.
        let current = try #require(node.baseline.module("probe")?.current)
        let loaded = "probe.v\(current.version)-\(String((current.key ?? "").prefix(12))).so"
        do {
            try client.stage(path: second, fileName: loaded)
            Issue.record("other bytes replaced the loaded \(loaded)")
        } catch {
            if case .failed(let code, _) = error { #expect(code == .badUpload) } else { Issue.record("\(error)") }
        }
        node.expectNoTemporaryFiles()
        try node.expectUnharmed()
    }
}

/// What the flooding threads share with the test.
private final class Flood: Sendable {
    let stop = Atomic<Bool>(false)
    let opened = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
}
