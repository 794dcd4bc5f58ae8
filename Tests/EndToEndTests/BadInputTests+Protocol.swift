#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hot
@testable import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// Where a client written from docs/PROTOCOL.md alone found the node and
/// the document apart: uploads of one name at once, chunks past an upload,
/// an evicted handshake, a load naming a module twice.
extension BadInputTests {
    /// Sends a `stage` request and its bytes in one chunk, and reads the answer.
    private static func stage(_ file: String, _ bytes: [UInt8], on client: RawClient) throws -> Response {
        try client.write(client.sealed(Request.stage(file: file, size: bytes.count, sha256: SHA256Hasher.hex(of: bytes))))
        try client.send(Frame(.chunk, bytes))
        return try client.receiveResponse()
    }

    @Test("two uploads of one name at once: the first to finish is staged, the other refused, and the name keeps one content")
    func concurrentUploadsOfOneName() throws {
        let node = try sharedNode()
        let name = "probe.v90-\(Hex.encode(randomBytes(6))).so"
        let staged = node.stagedPath + "/" + name
        defer { unlink(staged) }
        let first = randomBytes(64 << 10)  // B's, sent in two halves around A's whole upload
        let second = randomBytes(64 << 10)  // A's
        let b = try node.authenticated()
        let a = try node.authenticated()

        try b.write(b.sealed(Request.stage(file: name, size: first.count, sha256: SHA256Hasher.hex(of: first))))
        try b.send(Frame(.chunk, Array(first.prefix(first.count / 2))))
        // B's upload is under way once its temporary file exists: past any
        // check the node makes when the request arrives.
        let deadline = ContinuousClock.now + .seconds(10)
        while !node.temporaryFiles().contains(where: { $0.contains(name) }) && ContinuousClock.now < deadline { usleep(5_000) }
        try #require(node.temporaryFiles().contains { $0.contains(name) }, "B's upload never began")

        #expect(try Self.stage(name, second, on: a) == .ok(.string(name)), "A's upload, whole, is staged")
        try b.send(Frame(.chunk, Array(first.dropFirst(first.count / 2))))
        let answer = try b.receiveResponse()
        guard case .error(let code, let message) = answer else {
            Issue.record("B's upload of the name A staged meanwhile was answered \(answer)")
            return
        }
        #expect(code == .badUpload, "\(answer)")
        #expect(message.contains(SHA256Hasher.hex(of: second)) && message.contains(SHA256Hasher.hex(of: first)), "both digests: \(message)")
        #expect(readFile(staged) == second, "the staged file must hold A's bytes, which A was told were staged")

        // One name, one content: A's bytes again are fine, B's refused.
        #expect(try Self.stage(name, second, on: a) == .ok(.string(name)))
        let again = try Self.stage(name, first, on: b)
        if case .error(let code, _) = again { #expect(code == .badUpload) } else { Issue.record("B's bytes staged over A's: \(again)") }
        #expect(readFile(staged) == second)
        node.expectNoTemporaryFiles()
        try node.expectUnharmed()
    }

    @Test("chunks past an upload's last byte are dropped, never answered: each request has one response")
    func chunksPastTheLastByte() throws {
        let node = try sharedNode()
        let client = try node.authenticated()
        let ping = Response.ok(.string(node.baseline.node))
        let name = "probe.v91-\(Hex.encode(randomBytes(6))).so"
        let whole = "probe.v92-\(Hex.encode(randomBytes(6))).so"
        defer {
            unlink(node.stagedPath + "/" + name)
            unlink(node.stagedPath + "/" + whole)
        }

        // size 0: answered at once; the empty chunk a client may still send is dropped.
        try client.write(client.sealed(Request.stage(file: name, size: 0, sha256: SHA256Hasher.hex(of: []))))
        #expect(try client.receiveResponse() == .ok(.string(name)))
        try client.send(Frame(.chunk, []))
        #expect(try client.request(.ping) == ping, "the empty chunk after a size-0 upload must not be answered")

        // A whole upload, then a chunk too many.
        #expect(try Self.stage(whole, [7, 8, 9], on: client) == .ok(.string(whole)))
        try client.send(Frame(.chunk, [1, 2]))
        #expect(try client.request(.ping) == ping, "a chunk past the last byte must not be answered")

        // The chunks of a refused upload, more than it announced.
        try client.write(client.sealed(Request.stage(file: "not a name", size: 2, sha256: "")))
        try client.send(Frame(.chunk, [1, 2]))
        try client.send(Frame(.chunk, [3, 4, 5]))
        if case .error(let code, _) = try client.receiveResponse() { #expect(code == .badRequest) } else { Issue.record("a bad name staged") }
        #expect(try client.request(.ping) == ping)
        try node.expectUnharmed()
    }

    @Test("a handshake evicted by newer ones is told busy, not left to read a refused cookie")
    func evictedHandshakeIsToldBusy() throws {
        let node = try sharedNode()
        let oldest = try node.raw()
        var handshake = ClientHandshake(cookie: node.cookie)
        let challenge = try handshake.answer(oldest.receiveHello())
        // Eight more from this process, its share (ControlServer.maxHandshakingPerSource):
        // the ninth to hold a slot evicts this source's oldest.
        var newer: [RawClient] = []
        for _ in 0..<8 {
            let client = try node.raw()
            _ = try client.receiveHello()
            newer.append(client)
        }
        // The node may have closed before the challenge can be written; the
        // refusal is there to read either way.
        try? oldest.write(RawClient.bytes(challenge))
        let frame = try oldest.receiveFrame().frame
        #expect(frame.type == .refusal, "the evicted handshake got a \(frame.type) frame")
        #expect(throws: WireError.refused(reason: Handshake.busy)) { try handshake.finish(frame) }
        #expect(oldest.awaitEnd(seconds: 2) == .closed)

        // What a client makes of it: busy, try again; not a refused cookie.
        let failure = ClientError(opening: .refused(reason: Handshake.busy), address: .unix(path: node.socketPath))
        #expect(failure.description.contains("busy") && !failure.description.contains("cookie"), "\(failure)")
        newer.removeAll()
        try node.expectUnharmed()
    }

    @Test("a burst of 16 clients from one process: none reads a refused cookie; each is served, or told busy and served on a retry")
    func burstOfSixteen() throws {
        let node = try sharedNode()
        let cookie = node.cookie
        let address = NodeAddress.unix(path: node.socketPath)
        let cookieFile = node.cookiePath
        let results = Mutex<[String]>([])
        // The product's connection, which does not retry: a refusal it
        // meets must be `busy`; and its client, which retries a busy node.
        let threads = (0..<16).map { index in
            Thread {
                var outcome: String
                do {
                    let connection = try Connection.open(to: address, cookie: cookie)
                    connection.close()
                    outcome = "served"
                } catch let error as WireError {
                    if case .refused(let reason) = error { outcome = "refused \(reason)" } else { outcome = "failed: \(error)" }
                } catch {
                    outcome = "failed: \(error)"
                }
                do {
                    let client = try NodeClient(address: address, cookieFile: cookieFile, waiting: .seconds(10))
                    _ = try client.request(.ping)
                } catch {
                    outcome += "; client \(index) failed: \(error)"
                }
                results.withLock { $0.append(outcome) }
            }
        }
        for thread in threads { thread.start() }
        let deadline = ContinuousClock.now + .seconds(60)
        while results.withLock({ $0.count }) < threads.count && ContinuousClock.now < deadline { usleep(10_000) }
        let outcomes = results.withLock { $0 }
        try #require(outcomes.count == threads.count, "only \(outcomes.count) of \(threads.count) clients ended")
        let wrong = outcomes.filter { !($0 == "served" || $0 == "refused \(Handshake.busy)") }
        #expect(wrong.isEmpty, "\(wrong)")
        let served = outcomes.filter { $0 == "served" }.count
        print("burst of 16: \(served) served at once, \(outcomes.count - served) told busy")
        try node.expectUnharmed()
    }

    @Test("a load naming two versions of one module is refused at once, naming both, and loads nothing")
    func loadOfTwoVersionsOfOneModule() throws {
        let node = try sharedNode()
        let client = try node.authenticated()
        let files = ["probe.v7-0123456789ab.so", "hello.v9-0123456789ab.so", "probe.v8-0123456789ab.so"]
        let answer = try client.request(.load(files: files, purge: false, force: false))
        guard case .error(let code, let message) = answer else {
            Issue.record("answered \(answer)")
            return
        }
        #expect(code == .badRequest, "\(answer)")
        #expect(message.contains(files[0]) && message.contains(files[2]) && message.contains("probe"), "\(message)")
        let same = try client.request(.load(files: [files[1], files[1]], purge: false, force: false))
        if case .error(let code, _) = same { #expect(code == .badRequest, "\(same)") } else { Issue.record("\(same)") }
        try node.expectUnharmed()
    }

    @Test("an optional bool of the wrong type, and a sealed frame of a type clients do not send: badRequest, and the connection goes on")
    func wrongOptionalAndWrongFrame() throws {
        let node = try sharedNode()
        let client = try node.authenticated()
        let ping = Response.ok(.string(node.baseline.node))
        try client.send(Frame(.request, TermCodec.encode(["op": "purge", "module": "probe", "soft": "yes"])))
        if case .error(let code, let message) = try client.receiveResponse() {
            #expect(code == .badRequest && message.contains("soft"), "\(message)")
        } else {
            Issue.record("a string for soft was accepted")
        }
        #expect(try client.request(.ping) == ping)
        for type in [FrameType.hello, .welcome, .response, .refusal] {
            try client.send(Frame(type, TermCodec.encode(["op": "ping"])))
            if case .error(let code, _) = try client.receiveResponse() { #expect(code == .badRequest, "\(type)") } else { Issue.record("\(type)") }
            #expect(try client.request(.ping) == ping, "after a \(type) frame")
        }
        try node.expectUnharmed()
    }
}
