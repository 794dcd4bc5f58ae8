import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// "No bad input harms a node": one test per kind of bad input, each against
/// the same running node (started once for the suite), each ending with the
/// node still answering and serving exactly the versions it served before.
///
/// The wire-level tests speak the protocol frame by frame (`RawClient`) so
/// that they can break it at any point; the module-level ones upload objects
/// built by hand with swiftc.
@Suite("Bad input", .serialized, .sharedNode)
struct BadInputTests {
    // MARK: cookies

    @Test("no cookie: the client exits 3; a connection that never answers the hello is closed after the handshake timeout")
    func noCookie() throws {
        let node = try sharedNode()
        let missing = node.scratch.path("no-such-cookie")

        let explicit = try node.hot(["call", "hello:greet", "x", "--cookie-file", missing])
        #expect(explicit.status == 3, "\(explicit)")
        #expect(explicit.stderr.contains(missing), "the message must name the cookie file: \(explicit)")
        #expect(explicit.stderr.split(separator: "\n").count == 1, "one line: \(explicit)")

        let fromEnvironment = try node.hot(["status"], environment: ["HOT_COOKIE_FILE": missing])
        #expect(fromEnvironment.status == 3, "\(fromEnvironment)")
        #expect(fromEnvironment.stderr.contains("cookie"), "\(fromEnvironment)")

        // The project's own cookie gone (the node read it at start).
        let aside = node.cookiePath + ".aside"
        try FileManager.default.moveItem(atPath: node.cookiePath, toPath: aside)
        let withoutProjectCookie: Outcome
        do {
            defer { try? FileManager.default.moveItem(atPath: aside, toPath: node.cookiePath) }
            withoutProjectCookie = try node.hot(["call", "hello:greet", "x"])
        }
        #expect(withoutProjectCookie.status == 3, "\(withoutProjectCookie)")
        #expect(withoutProjectCookie.stderr.contains("cookie"), "\(withoutProjectCookie)")

        // A peer that connects, takes the hello and never answers: the node
        // closes it after its handshake timeout (2 s), not before, not never.
        let started = ContinuousClock.now
        let silent = try node.raw(timeoutMilliseconds: 10_000)
        _ = try silent.receiveHello()
        let end = silent.awaitEnd(seconds: 9)
        let waited = seconds(since: started)
        #expect(end == .closed, "the node must close a silent connection: \(end) after \(waited) s")
        #expect(waited > 1.5 && waited < 5, "closed after \(waited) s; the handshake timeout is 2 s")

        try node.expectUnharmed()
    }

    @Test("wrong cookie: the client exits 3 and the node closes the connection without a welcome")
    func wrongCookie() throws {
        let node = try sharedNode()
        let wrong = node.scratch.path("wrong-cookie")
        try "not-the-cookie\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(wrong, 0o600)

        for command in [["call", "hello:greet", "x"], ["status", "--json"], ["purge", "probe"]] {
            let outcome = try node.hot(command + ["--cookie-file", wrong])
            #expect(outcome.status == 3, "\(command): \(outcome)")
            #expect(outcome.stderr.contains("cookie"), "\(command): \(outcome)")
            #expect(outcome.stdout.isEmpty, "\(command): \(outcome)")
        }

        // Raw: a proof under the wrong cookie gets no welcome, only a close,
        // and soon (the node waits a little, then closes).
        let client = try node.raw()
        let started = ContinuousClock.now
        #expect(throws: RawError.self, "a wrong proof must not be welcomed") { try client.handshake(cookie: Array("not-the-cookie".utf8)) }
        #expect(seconds(since: started) < 3, "refused after \(seconds(since: started)) s")

        // A challenge of the right shape whose proof is empty, or of the wrong length.
        for proof in [[UInt8](), [UInt8](repeating: 0, count: 32), randomBytes(31), randomBytes(4000)] {
            let raw = try node.raw()
            _ = try raw.receiveHello()
            let challenge = Frame(.challenge, TermCodec.encode(["challenge": .bytes(randomBytes(32)), "proof": .bytes(proof)]))
            try? raw.write(RawClient.bytes(challenge))
            #expect(raw.awaitEnd(seconds: 3) == .closed, "proof of \(proof.count) bytes")
        }

        try node.expectUnharmed()
    }

    @Test("a cookie file others may read: the client exits 3 and hotnode refuses to start")
    func worldReadableCookie() throws {
        let node = try sharedNode()
        for mode: mode_t in [0o644, 0o640, 0o604, 0o660] {
            let loose = node.scratch.path("loose-cookie-\(String(mode, radix: 8))")
            _ = FileManager.default.createFile(atPath: loose, contents: Data(node.cookie))
            chmod(loose, mode)
            let outcome = try node.hot(["call", "hello:greet", "x", "--cookie-file", loose])
            #expect(outcome.status == 3, "mode \(String(mode, radix: 8)): \(outcome)")
            #expect(outcome.stderr.contains("must be accessible by owner only"), "mode \(String(mode, radix: 8)): \(outcome)")
            #expect(outcome.stdout.isEmpty)
        }

        // hotnode itself, with such a cookie, does not start.
        let loose = node.scratch.path("loose-cookie-644")
        let socket = node.scratch.path("loose.sock")
        let ran = try runBounded(
            Binaries.directory + "/hotnode",
            ["--name", "loose", "--listen", "unix:\(socket)", "--cookie-file", loose, "--state", node.scratch.path("loose-state")],
            seconds: 10, in: node.scratch.root)
        let refused = try #require(ran, "hotnode kept running with a world-readable cookie")
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("must be accessible by owner only"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: socket), "hotnode must not listen")

        // Nor does `hot start` for a project whose cookie is world-readable.
        chmod(node.cookiePath, 0o644)
        let started: Outcome
        do {
            defer { chmod(node.cookiePath, 0o600) }
            started = try node.hot(["start"])
        }
        #expect(started.status != 0, "\(started)")
        #expect(started.stderr.contains("must be accessible by owner only"), "\(started)")

        try node.expectUnharmed()
    }

    // MARK: frames before and after the handshake

    @Test("random bytes instead of a handshake: the node closes the connection")
    func randomBytesInsteadOfHandshake() throws {
        let node = try sharedNode()
        for round in 0..<8 {
            let client = try node.raw()
            let bytes = randomBytes(round < 4 ? 64 << 10 : 1 + round * 7)
            // Half the rounds write before the hello was read, half after.
            if round.isMultiple(of: 2) { _ = try client.receiveHello() }
            try? client.write(bytes)
            if !round.isMultiple(of: 2) { _ = try? client.receiveHello() }
            if round >= 4 {
                // Too few bytes to be a frame: the node waits for more, so end
                // the stream ourselves; it must close its side at once.
                client.socket.shutdown()
            }
            let end = client.awaitEnd(seconds: 3)
            #expect(end == .closed, "round \(round): \(end); bytes began \(bytes.prefix(8).map { String($0, radix: 16) })")
        }

        // Well-framed garbage: a challenge frame whose payload is random, or
        // a valid term of the wrong shape.
        let payloads: [[UInt8]] = [
            randomBytes(100), randomBytes(3000), [8, 200, 1],
            TermCodec.encode(["challenge": .string("x"), "proof": .bytes(randomBytes(32))]),
            TermCodec.encode(.list([.int(1), .int(2)])),
            TermCodec.encode(["challenge": .bytes(randomBytes(33)), "proof": .bytes(randomBytes(32))]),
        ]
        for (index, payload) in payloads.enumerated() {
            for type in [FrameType.challenge, .request, .hello, .welcome, .chunk] {
                let client = try node.raw()
                _ = try client.receiveHello()
                try? client.write(RawClient.bytes(Frame(type, payload)))
                #expect(client.awaitEnd(seconds: 3) == .closed, "payload \(index) as \(type)")
            }
        }
        // An unknown frame type.
        let client = try node.raw()
        _ = try client.receiveHello()
        try? client.write([0, 0, 0, 2, 99, 0])
        #expect(client.awaitEnd(seconds: 3) == .closed, "unknown frame type")

        try node.expectUnharmed()
    }

    @Test("a truncated frame, then close: the node drops the connection and goes on")
    func truncatedFrame() throws {
        let node = try sharedNode()
        // Before the handshake: a header announcing 100 bytes, 10 of them sent.
        do {
            let client = try node.raw()
            _ = try client.receiveHello()
            try client.write([0, 0, 0, 100, FrameType.challenge.rawValue] + randomBytes(9))
            client.close()
        }
        // Only part of a length header.
        do {
            let client = try node.raw()
            _ = try client.receiveHello()
            try client.write([0, 0])
            client.close()
        }
        // After the handshake: half of a sealed request, a bare header, the
        // request without its MAC.
        for cut in ["half", "header", "no MAC"] {
            let client = try node.authenticated()
            let bytes = try client.sealed(Request.status)
            switch cut {
            case "half": try client.write(Array(bytes.prefix(bytes.count / 2)))
            case "header": try client.write(Array(bytes.prefix(4)))
            default: try client.write(Array(bytes.dropLast(FrameLimits.macLength)))
            }
            client.close()
        }
        // And a truncated frame on a connection left open: the node waits for
        // the rest (it cannot know it will not come) and must not answer.
        let open = try node.authenticated()
        let bytes = try open.sealed(Request.ping)
        try open.write(Array(bytes.dropLast(5)))
        #expect(open.awaitEnd(seconds: 0.5) == .stillOpen)
        try open.write(Array(bytes.suffix(5)))
        #expect(try open.receiveResponse() == .ok(.string("app")), "the rest of the frame completes it")
        open.close()

        usleep(100_000)
        try node.expectUnharmed()
    }

    @Test("an oversized frame: refused from its length header alone, at once")
    func oversizedFrame() throws {
        let node = try sharedNode()
        func header(_ length: Int) -> [UInt8] {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: length).bigEndian) { Array($0) }
        }
        // Before the handshake the limit is 4 KiB; after, 4 MiB. The node must
        // close as soon as the header arrives, without waiting for the body
        // (well under the 5 s handshake timeout) and without buffering it.
        let cases: [(name: String, authenticated: Bool, bytes: [UInt8])] = [
            ("4 GiB before the handshake", false, header(0xFFFF_FFFF) + [FrameType.challenge.rawValue]),
            ("limit + 1 before the handshake", false, header(FrameLimits.maxHandshakeFrameLength + 1) + [FrameType.challenge.rawValue]),
            ("4 GiB after the handshake", true, header(0xFFFF_FFFF) + [FrameType.request.rawValue]),
            ("limit + 1 after the handshake", true, header(FrameLimits.maxFrameLength + 1) + [FrameType.request.rawValue]),
            ("zero length after the handshake", true, header(0)),
            ("no room for the MAC", true, header(FrameLimits.macLength) + [FrameType.request.rawValue] + randomBytes(31)),
        ]
        for item in cases {
            let client = item.authenticated ? try node.authenticated() : try node.raw()
            if !item.authenticated { _ = try client.receiveHello() }
            let started = ContinuousClock.now
            try? client.write(item.bytes)
            let end = client.awaitEnd(seconds: 3)
            #expect(end == .closed, "\(item.name): \(end)")
            #expect(seconds(since: started) < 2, "\(item.name): closed only after \(seconds(since: started)) s")
        }
        // A whole frame just over the limit, body and all: refused too.
        let client = try node.authenticated()
        var big = header(FrameLimits.maxFrameLength + 1) + [FrameType.chunk.rawValue]
        big += [UInt8](repeating: 0x41, count: FrameLimits.maxFrameLength)
        try? client.write(big)
        #expect(client.awaitEnd(seconds: 3) == .closed)

        try node.expectUnharmed()
    }

    @Test("after a good handshake, a frame with a bad MAC: connection closed, no answer, node fine")
    func badMAC() throws {
        let node = try sharedNode()
        let tamperings: [(String, (inout [UInt8]) -> Void)] = [
            ("a MAC bit flipped", { $0[$0.count - 1] ^= 0x01 }),
            ("a payload bit flipped", { $0[6] ^= 0x80 }),
            ("the type changed", { $0[4] = FrameType.chunk.rawValue }),
            ("a zero MAC", { bytes in for i in (bytes.count - 32)..<bytes.count { bytes[i] = 0 } }),
            ("a random MAC", { bytes in
                let mac = randomBytes(32)
                for i in 0..<32 { bytes[bytes.count - 32 + i] = mac[i] }
            }),
        ]
        for (name, tamper) in tamperings {
            let client = try node.authenticated()
            // The session works...
            #expect(try client.request(.ping) == .ok(.string("app")), "\(name): the control ping")
            // ...until a frame fails its MAC.
            var bytes = try client.sealed(Request.status)
            tamper(&bytes)
            try? client.write(bytes)
            let end = client.awaitEnd(seconds: 3)
            #expect(end == .closed, "\(name): \(end)")
        }
        // A request sealed under another session's key.
        let other = try node.authenticated()
        let client = try node.authenticated()
        try? client.write(try other.sealed(Request.status))
        #expect(client.awaitEnd(seconds: 3) == .closed, "another session's MAC")
        other.close()

        try node.expectUnharmed()
    }

    @Test("a replayed frame: refused, on the same connection or another; a recorded handshake replays nowhere")
    func replayedFrame() throws {
        let node = try sharedNode()
        // The same connection: the exact bytes of an answered request, again.
        let first = try node.authenticated()
        let recordedChallenge = try {
            // Keep the challenge frame of a real handshake for the last case.
            let c = try node.raw()
            let bytes = try c.handshake(cookie: node.cookie)
            c.close()
            return bytes
        }()
        let request = try first.sealed(Request.status)
        try first.write(request)
        guard case .ok = try first.receiveResponse() else {
            Issue.record("the original request must be answered")
            return
        }
        try? first.write(request)
        #expect(first.awaitEnd(seconds: 3) == .closed, "a replay on the same connection must close it")

        // Another connection: the recorded request as its first frame.
        let second = try node.authenticated()
        try? second.write(request)
        #expect(second.awaitEnd(seconds: 3) == .closed, "a replay on a new connection must close it")

        // Out of order: the second sealed frame before the first.
        let third = try node.authenticated()
        _ = try third.sealed(Request.ping)
        let later = try third.sealed(Request.ping)
        try? third.write(later)
        #expect(third.awaitEnd(seconds: 3) == .closed, "a reordered frame must close the connection")

        // A node's response reflected back at it.
        let fourth = try node.authenticated()
        try fourth.write(try fourth.sealed(Request.ping))
        let (response, mac) = try fourth.receiveFrame()
        try? fourth.write(RawClient.bytes(response, mac: mac))
        #expect(fourth.awaitEnd(seconds: 3) == .closed, "a reflected response must close the connection")

        // A recorded handshake: the challenge frame of an earlier, good
        // handshake answers a new hello whose challenge differs.
        let replay = try node.raw()
        _ = try replay.receiveHello()
        try? replay.write(recordedChallenge)
        #expect(throws: RawError.self, "a recorded challenge must not be welcomed") { _ = try replay.receiveFrame() }

        try node.expectUnharmed()
    }

    // MARK: uploads

    @Test("an upload whose sha256 does not match: badUpload, nothing staged, no temporary file")
    func uploadHashMismatch() throws {
        let node = try sharedNode()
        let stagedBefore = try node.staged()
        let client = try node.authenticated()
        let content = randomBytes(300_000)
        let name = "upload.v1-0123456789ab.so"

        // The announced hash is of other bytes.
        try client.write(try client.sealed(Request.stage(file: name, size: content.count, sha256: SHA256Hasher.hex(of: content + [0]))))
        for offset in stride(from: 0, to: content.count, by: 100_000) {
            try client.send(Frame(.chunk, Array(content[offset..<min(offset + 100_000, content.count)])))
        }
        let response = try client.receiveResponse()
        guard case .error(let code, let message) = response else {
            Issue.record("a mismatched upload was accepted: \(response)")
            return
        }
        #expect(code == .badUpload, "\(response)")
        #expect(message.contains("sha256"), "the message must say the hash differs: \(message)")
        #expect(try node.staged() == stagedBefore, "nothing may be staged")
        node.expectNoTemporaryFiles()

        // Not even a hash: refused the same way.
        try client.write(try client.sealed(Request.stage(file: name, size: 5, sha256: "")))
        try client.send(Frame(.chunk, Array("hello".utf8)))
        if case .error(let code, _) = try client.receiveResponse() { #expect(code == .badUpload) } else { Issue.record("an empty hash was accepted") }

        // More bytes than announced.
        let small = Array("0123456789".utf8)
        try client.write(try client.sealed(Request.stage(file: name, size: 4, sha256: SHA256Hasher.hex(of: Array(small.prefix(4))))))
        try client.send(Frame(.chunk, small))
        if case .error(let code, _) = try client.receiveResponse() { #expect(code == .badUpload) } else { Issue.record("an oversized upload was accepted") }

        // More than the node takes at all: refused before a byte is read.
        try client.write(try client.sealed(Request.stage(file: name, size: 1 << 40, sha256: SHA256Hasher.hex(of: []))))
        if case .error(let code, _) = try client.receiveResponse() { #expect(code == .badUpload) } else { Issue.record("a 1 TiB upload was accepted") }

        // The connection still works, and the name was never staged.
        #expect(try client.request(.ping) == .ok(.string("app")))
        let load = try client.request(.load(files: [name], purge: false, force: false))
        if case .error(let code, _) = load { #expect(code == .noFile, "\(load)") } else { Issue.record("a refused upload loaded: \(load)") }
        #expect(try node.staged() == stagedBefore)
        node.expectNoTemporaryFiles()
        try node.expectUnharmed()
    }

    @Test("a client gone mid-upload: no temporary file left, nothing staged, nothing changed")
    func uploadInterrupted() throws {
        let node = try sharedNode()
        let stagedBefore = try node.staged()
        let content = randomBytes(1 << 20)
        let chunk = 256 << 10
        for cut in ["between chunks", "inside a chunk"] {
            let client = try node.authenticated()
            let name = "upload.v2-0123456789ab.so"
            try client.write(try client.sealed(Request.stage(file: name, size: content.count, sha256: SHA256Hasher.hex(of: content))))
            try client.send(Frame(.chunk, Array(content[0..<chunk])))
            try client.send(Frame(.chunk, Array(content[chunk..<(2 * chunk)])))
            // The node has begun its temporary file...
            let deadline = Date().addingTimeInterval(3)
            while node.temporaryFiles().isEmpty && Date() < deadline { usleep(10_000) }
            #expect(!node.temporaryFiles().isEmpty, "\(cut): the upload never reached a temporary file")
            if cut == "inside a chunk" {
                let third = try client.sealed(Frame(.chunk, Array(content[(2 * chunk)..<(3 * chunk)])))
                try client.write(Array(third.prefix(third.count / 2)))
            }
            // ...and the client dies (its socket closes, as the kernel closes a killed process's).
            client.close()
            node.expectNoTemporaryFiles()
            #expect(try node.staged() == stagedBefore, "\(cut): nothing may be staged")
        }
        try node.expectUnharmed()
    }

    // MARK: names

    @Test("a file name holding / or .. in stage or load: refused with badRequest, nothing written")
    func pathInFileName() throws {
        let node = try sharedNode()
        let stagedBefore = try node.staged()
        let stateBefore = try FileManager.default.subpathsOfDirectory(atPath: node.stateDirectory).sorted()
        let rootBefore = try FileManager.default.contentsOfDirectory(atPath: node.scratch.root).sorted()
        let hotBefore = try FileManager.default.contentsOfDirectory(atPath: node.app + "/.hot").sorted()
        let names = [
            "../evil.v1-0123456789ab.so", "../../evil.v1-0123456789ab.so", "../../../../tmp/evil.v1-0123456789ab.so",
            "a/b.v1-0123456789ab.so", "/tmp/evil.v1-0123456789ab.so", "..", ".", "",
            "evil.v1-0123456789ab.so/..", "hello.v1-0123456789ab.so/../../../cookie", "./evil.v1-0123456789ab.so",
            "evil.v1-0123456789ab.so\u{0}", "evil.v1-../../0123.so", "evil..v1-0123456789ab.so", "..evil.v1-0123456789ab.so",
            "evil.v1-0123456789ab/.so", "Evil.v1-0123456789ab.so", "evil.v01-0123456789ab.so", "evil.v-1-0123456789ab.so",
        ]
        let body = Array("evil".utf8)
        let client = try node.authenticated()
        for name in names {
            let staged = try client.request(.stage(file: name, size: body.count, sha256: SHA256Hasher.hex(of: body)))
            if case .error(let code, _) = staged {
                #expect(code == .badRequest, "stage '\(name)': \(staged)")
            } else {
                Issue.record("stage '\(name)' was accepted: \(staged)")
                try? client.send(Frame(.chunk, body))
                _ = try? client.receiveResponse()
            }
            for request in [Request.load(files: [name], purge: false, force: false), .check(files: [name])] {
                let answer = try client.request(request)
                if case .error(let code, _) = answer {
                    #expect(code == .badRequest, "\(request): \(answer)")
                } else {
                    Issue.record("\(request) was accepted: \(answer)")
                }
            }
        }
        // One bad name spoils a load of several: nothing loads.
        let current = try #require(node.baseline.module("probe")?.current)
        let good = "probe.v\(current.version)-\(String((current.key ?? "").prefix(12))).so"
        let mixed = try client.request(.load(files: [good, "../evil.v1-0123456789ab.so"], purge: false, force: false))
        if case .error(let code, _) = mixed { #expect(code == .badRequest, "\(mixed)") } else { Issue.record("\(mixed)") }
        #expect(try client.request(.ping) == .ok(.string("app")), "the connection goes on after a refusal")

        #expect(try node.staged() == stagedBefore)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: node.stateDirectory).sorted() == stateBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.scratch.root).sorted() == rootBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.app + "/.hot").sorted() == hotBefore)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.v1-0123456789ab.so"))
        try node.expectUnharmed()
    }

    // MARK: many connections

    @Test("1,000 simultaneous connections: the excess are closed, and hot call still answers")
    func thousandConnections() throws {
        let node = try sharedNode()
        let count = 1_000
        // Room for the connections besides what the test process holds.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4_096 {
            limit.rlim_cur = min(limit.rlim_max, 4_096)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= rlim_t(count + 200), "RLIMIT_NOFILE is \(limit.rlim_cur); \(count) connections need more")

        let started = ContinuousClock.now
        let descriptors = Mutex<[Int32]>([])
        let failures = Mutex<[String]>([])
        let path = node.socketPath
        DispatchQueue.concurrentPerform(iterations: 10) { _ in
            for _ in 0..<(count / 10) {
                switch connectUnix(path) {
                case .success(let fd): descriptors.withLock { $0.append(fd) }
                case .failure(let error): failures.withLock { $0.append("\(error)") }
                }
            }
        }
        let fds = descriptors.withLock { $0 }
        var closedAll = false
        defer { if !closedAll { for fd in fds { close(fd) } } }
        let failed = failures.withLock { $0 }
        #expect(failed.isEmpty, "\(failed.count) connects failed: \(failed.prefix(3))")
        let opened = seconds(since: started)

        // The node greets each connection, and keeps at most
        // `maxHandshaking` (32) silent ones: each newer one evicts the oldest.
        // Read every connection to its end, for up to 1 s.
        var ended = Set<Int>()
        let deadline = Date().addingTimeInterval(1)
        while ended.count < fds.count && Date() < deadline {
            let waiting = fds.enumerated().filter { !ended.contains($0.offset) }
            var polls = waiting.map { pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0) }
            _ = poll(&polls, nfds_t(polls.count), 100)
            for (i, p) in polls.enumerated() where p.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n <= 0 { ended.insert(waiting[i].offset) }
            }
        }
        let open = fds.count - ended.count
        #expect(open <= 32, "the node keeps at most 32 connections in their handshake; \(open) still open")
        #expect(ended.count >= fds.count - 32, "the excess must be closed: \(ended.count) closed")

        // During the flood (every connection still open on our side): a
        // normal client must still get through, without waiting for the
        // silent ones to time out.
        let duringStarted = ContinuousClock.now
        let during = try node.hot(["call", "hello:greet", "during"])
        let duringTook = seconds(since: duringStarted)
        #expect(during.status == 0, "hot call during a flood of \(count) connections: \(during)")
        #expect(during.stdout == "\"Hello, during!\"\n", "\(during)")

        for fd in fds { close(fd) }
        closedAll = true
        // After: the node frees its slots as the connections close.
        let afterStarted = ContinuousClock.now
        var after = try node.hot(["call", "hello:greet", "after"])
        while after.status != 0 && seconds(since: afterStarted) < 3 {
            usleep(50_000)
            after = try node.hot(["call", "hello:greet", "after"])
        }
        #expect(after.status == 0, "hot call after the flood: \(after)")
        #expect(seconds(since: afterStarted) < 3, "the node took \(seconds(since: afterStarted)) s to serve again after the flood ended")
        #expect(seconds(since: started) < 20, "the flood test took \(seconds(since: started)) s (opening: \(opened) s, call during: \(duringTook) s)")
        try node.expectUnharmed()
    }
}

/// A blocking Unix-socket connect with a 5 s timeout (SO_SNDTIMEO bounds connect on AF_UNIX).
func connectUnix(_ path: String) -> Result<Int32, SystemError> {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return .failure(SystemError("socket")) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let result = withUnsafePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard result == 0 else {
        let error = SystemError("connect")
        close(fd)
        return .failure(error)
    }
    return .success(fd)
}
