#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire
import Testing

@testable import HotWire

private let everyRequest: [Request] = [
    .ping, .status, .stop,
    .call(module: "chat", function: "send", args: []),
    .call(module: "math", function: "add", args: [1, -5, "x", [1, [2]], ["k": .bytes([0, 255])], .pid(Pid(9)), nil, 2.5]),
    .stage(file: "chat.v1-0123456789ab.so", size: 0, sha256: String(repeating: "a", count: 64)),
    .stage(file: "chat.v2-0123456789ab.so", size: 1 << 40, sha256: "ff"),
    .load(files: [], purge: false, force: false),
    .load(files: ["a.v1-0123456789ab.so", "b.v3-ba9876543210.so"], purge: true, force: false),
    .load(files: ["a.v1-0123456789ab.so"], purge: false, force: true),
    .spawn(module: "chat", function: "loop", args: [], name: nil),
    .spawn(module: "chat", function: "start", args: ["room", 3], name: "chat_server"),
    .send(to: "<0.12.0>", message: ["hello", .pid(Pid(3))]),
    .send(to: "chat_server", message: nil),
    .purge(module: "chat", soft: true),
    .purge(module: "chat", soft: false),
    .delete(module: "chat"),
    .check(files: ["chat.v2-0123456789ab.so"]),
    .check(files: []),
    .makePermanent(modules: ["chat", "lobby"]),
    .rollback(module: "chat"),
    .compact(purge: true),
]

private let everyErrorCode: [ErrorCode] = [
    .badRequest, .undefined, .badArgument, .raised, .noFile, .badFile, .mismatch, .notPurged, .sticky,
    .onLoadFailure, .badUpload, .process, .reconnect, .failed,
]

private let everyResponse: [Response] =
    [.ok(nil), .ok("alpha"), .ok(["modules": [["name": "chat", "version": 3]]]), .ok(.bytes([1, 2]))]
    + everyErrorCode.map { .error(code: $0, message: "why: \($0.rawValue)") }

private func requestError(_ term: Term) -> WireError? {
    do {
        _ = try Request(term: term)
        return nil
    } catch {
        return error
    }
}

private func isBadMessage(_ error: WireError?) -> Bool {
    if case .badMessage? = error { return true }
    return false
}

/// A fresh folder under /tmp (mkdtemp); the caller removes it in a defer.
private func makeScratchDirectory() throws -> String {
    var template = Array("/tmp/hot-msg-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
    guard made else { throw SystemError("mkdtemp") }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

private func fileMode(_ path: String) -> UInt32 {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return UInt32(info.st_mode) & 0o777
}

private func cookieError(_ body: () throws(Cookie.Failure) -> [UInt8]) -> Cookie.Failure? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Does not compile once Request or ErrorCode gains a case: a reminder to
/// add it to the lists above.
private func caseName(_ request: Request) -> String {
    switch request {
    case .ping: "ping"
    case .status: "status"
    case .stop: "stop"
    case .call: "call"
    case .stage: "stage"
    case .load: "load"
    case .spawn: "spawn"
    case .send: "send"
    case .purge: "purge"
    case .delete: "delete"
    case .check: "check"
    case .makePermanent: "makePermanent"
    case .rollback: "rollback"
    case .compact: "compact"
    }
}

private func isListed(_ code: ErrorCode) -> Bool {
    switch code {
    case .badRequest, .undefined, .badArgument, .raised, .noFile, .badFile, .mismatch, .notPurged, .sticky,
        .onLoadFailure, .badUpload, .process, .reconnect, .failed:
        everyErrorCode.contains(code)
    }
}

@Suite struct MessageTests {
    @Test func listsCoverEveryCase() {
        #expect(Set(everyRequest.map(caseName)).count == 14)
        #expect(everyErrorCode.allSatisfy(isListed))
        #expect(Set(everyErrorCode).count == 14)
    }

    @Test(arguments: everyRequest) func requestRoundTrips(_ request: Request) throws {
        #expect(try Request(term: request.term) == request)
        #expect(try Request(term: TermCodec.decode(TermCodec.encode(request.term))) == request)
    }

    @Test(arguments: everyResponse) func responseRoundTrips(_ response: Response) throws {
        #expect(try Response(term: response.term) == response)
        #expect(try Response(term: TermCodec.decode(TermCodec.encode(response.term))) == response)
    }

    @Test func unknownErrorCodeReadsAsFailed() throws {
        #expect(try Response(term: ["error": "fromTheFuture", "message": "m"]) == .error(code: .failed, message: "m"))
    }

    @Test func malformedResponseIsBadMessage() {
        for term: Term in [[:], ["error": "failed"], ["error": 1, "message": "m"], "ok", nil] {
            let failure: WireError?
            do {
                _ = try Response(term: term)
                failure = nil
            } catch {
                failure = error
            }
            #expect(isBadMessage(failure), "\(term)")
        }
    }

    @Test func loadFlagsDefaultToFalse() throws {
        #expect(try Request(term: ["op": "load", "files": ["x"]]) == .load(files: ["x"], purge: false, force: false))
    }

    @Test func malformedRequestsAreBadMessage() {
        let sha: Term = "ab"
        let malformed: [Term] = [
            // No op, or an op that is not a string.
            [:], nil, ["ping"], ["module": "m"], ["op": 1], ["op": nil], ["op": .bytes(Array("ping".utf8))],
            // Unknown ops (ops are case-sensitive).
            ["op": "nosuch"], ["op": ""], ["op": "PING"],
            // call with a missing or mistyped field.
            ["op": "call", "module": "m", "function": "f"],
            ["op": "call", "module": 1, "function": "f", "args": []],
            ["op": "call", "module": "m", "function": nil, "args": []],
            ["op": "call", "module": "m", "function": "f", "args": "not a list"],
            // stage with a missing, mistyped or negative size.
            ["op": "stage", "file": "f", "sha256": sha],
            ["op": "stage", "file": "f", "size": "10", "sha256": sha],
            ["op": "stage", "file": "f", "size": 1.5, "sha256": sha],
            ["op": "stage", "file": "f", "size": -1, "sha256": sha],
            ["op": "stage", "file": "f", "size": .int(.min), "sha256": sha],
            ["op": "stage", "file": 3, "size": 1, "sha256": sha],
            ["op": "stage", "file": "f", "size": 1, "sha256": .bytes([0xab])],
            // load with files missing, not a list, or holding a non-string.
            ["op": "load"], ["op": "load", "files": "a.so"], ["op": "load", "files": ["a.so", 2]],
            // spawn, send, purge and delete with a missing or mistyped field.
            ["op": "spawn", "module": "m", "function": "f"],
            ["op": "spawn", "module": "m", "function": 2, "args": []],
            ["op": "send", "to": "p"], ["op": "send", "to": 1, "message": "m"], ["op": "send", "message": "m"],
            ["op": "purge"], ["op": "purge", "module": ["m"]],
            ["op": "delete"], ["op": "delete", "module": .bytes([109])],
        ]
        for term in malformed {
            #expect(isBadMessage(requestError(term)), "\(term) must be refused")
        }
    }

    // MARK: ArtifactName

    @Test func validArtifactNamesParse() throws {
        let valid: [(fileName: String, module: String, version: Int, key: String)] = [
            ("chat.v1-0123456789ab.so", "chat", 1, "0123456789ab"),
            ("chat_room2.v42-abcdefabcdef.so", "chat_room2", 42, "abcdefabcdef"),
            ("a.v1000000-000000000000.so", "a", 1_000_000, "000000000000"),
        ]
        for (fileName, module, version, key) in valid {
            let name = try #require(ArtifactName(fileName: fileName))
            #expect(name.module == module)
            #expect(name.version == version)
            #expect(name.keyPrefix == key)
            #expect(name.fileName == fileName)
            #expect(name == ArtifactName(module: module, version: version, key: key))
        }
    }

    @Test(arguments: [
        "", ".so", "chat.so", "chat.v1-0123456789ab", "chat.v1-0123456789ab.SO", "chat.v1-0123456789ab.so.tmp",
        "../chat.v1-0123456789ab.so", "dir/chat.v1-0123456789ab.so", "chat.v1-0123456789ab.so/x.so",
        "...v1-0123456789ab.so", "..v1-0123456789ab.so", ".v1-0123456789ab.so",
        "Chat.v1-0123456789ab.so", "chat.V1-0123456789ab.so", "chat.v1-0123456789AB.so",
        "chat.v1-0123456789a.so", "chat.v1-0123456789abc.so", "chat.v1-.so",
        "chat.v1-0123456789ag.so", "chat.v1-01234567 9ab.so", "chat.v1-0123456789a/.so",
        "chat.v0-0123456789ab.so", "chat.v-1-0123456789ab.so", "chat.v-0123456789ab.so", "chat.vx-0123456789ab.so",
        "chat.1-0123456789ab.so", "chat.v10123456789ab.so", "chat-room.v1-0123456789ab.so",
        "a.b.v1-0123456789ab.so", "1chat.v1-0123456789ab.so",
    ])
    func badArtifactNamesRefused(_ fileName: String) {
        #expect(ArtifactName(fileName: fileName) == nil)
    }

    @Test func artifactFileNameRoundTrips() throws {
        let key = String(repeating: "9f", count: 32)
        let name = ArtifactName(module: "chat", version: 7, key: key)
        #expect(name.keyPrefix == "9f9f9f9f9f9f")
        #expect(name.fileName == "chat.v7-9f9f9f9f9f9f.so")
        #expect(ArtifactName(fileName: name.fileName) == name)
    }

    @Test func nonCanonicalVersionRefused() {
        // Two spellings of one version would let two files name one artifact,
        // and `fileName` would not give back the name that was parsed.
        for fileName in ["chat.v+1-0123456789ab.so", "chat.v01-0123456789ab.so"] {
            #expect(ArtifactName(fileName: fileName) == nil, "\(fileName)")
        }
    }

    // MARK: Cookie

    @Test func createMakesOwnerOnlyFileThatReadGives() throws {
        let dir = try makeScratchDirectory()
        defer { removeTree(dir) }
        let path = dir + "/cookie"
        let secret = try Cookie.create(path: path)
        #expect(secret.count == 64)
        #expect(fileMode(path) == 0o600)
        #expect(try Cookie.read(path: path) == secret)
        // A second create keeps the existing secret.
        #expect(try Cookie.create(path: path) == secret)
        let other = dir + "/other"
        #expect(try Cookie.create(path: other) != secret)
    }

    @Test func groupReadableCookieRefused() throws {
        let dir = try makeScratchDirectory()
        defer { removeTree(dir) }
        let path = dir + "/cookie"
        _ = try Cookie.create(path: path)
        // Group alone or others alone may not read it either.
        for mode: mode_t in [0o640, 0o604, 0o620, 0o602] {
            #expect(chmod(path, mode) == 0)
            let error = cookieError { () throws(Cookie.Failure) in try Cookie.read(path: path) }
            #expect(error?.description.contains("must be accessible by owner only") == true, "mode \(String(mode, radix: 8))")
        }
        #expect(chmod(path, 0o644) == 0)
        let error = cookieError { () throws(Cookie.Failure) in try Cookie.read(path: path) }
        guard case .notOwnerOnly(let reported, let mode)? = error else {
            Issue.record("expected notOwnerOnly, got \(String(describing: error))")
            return
        }
        #expect(reported == path)
        #expect(mode & 0o777 == 0o644)
        #expect(error?.description.contains("must be accessible by owner only") == true)
        // create must not hand out an existing secret others can read either.
        let createError = cookieError { () throws(Cookie.Failure) in try Cookie.create(path: path) }
        #expect(createError == .notOwnerOnly(path: path, mode: mode), "create on a 0644 file must refuse it")
    }

    @Test func emptyCookieRefused() throws {
        let dir = try makeScratchDirectory()
        defer { removeTree(dir) }
        for (name, content) in [("empty", ""), ("newline", "\n"), ("blank", " \r\n")] {
            let path = "\(dir)/\(name)"
            try writeFileAtomically(path, Array(content.utf8), mode: 0o600)
            #expect(cookieError { () throws(Cookie.Failure) in try Cookie.read(path: path) } == .empty(path: path))
        }
    }

    @Test func trailingNewlineIsNotPartOfTheSecret() throws {
        let dir = try makeScratchDirectory()
        defer { removeTree(dir) }
        let path = dir + "/cookie"
        try writeFileAtomically(path, Array("s3cret\n".utf8), mode: 0o600)
        #expect(try Cookie.read(path: path) == Array("s3cret".utf8))
    }

    @Test func missingCookieUnreadable() {
        let path = "/tmp/hot-no-such-dir-\(getpid())/cookie"
        guard case .unreadable(let reported, _)? = cookieError({ () throws(Cookie.Failure) in try Cookie.read(path: path) })
        else {
            Issue.record("a missing cookie file must be unreadable")
            return
        }
        #expect(reported == path)
    }
}

/// A list nested `depth` deep around an int.
private func nested(_ depth: Int) -> Term {
    var term: Term = 1
    for _ in 0..<depth { term = .list([term]) }
    return term
}

@Suite struct RequestDepthTests {
    @Test("a field the node ignores nests at most 128 deep, as every other; 129 is a bad request naming it")
    func ignoredFieldDepth() throws {
        let fine: Term = ["op": "ping", "later": nested(128)]
        #expect(try Request(payload: TermCodec.encode(fine)) == .ping)
        let deep: Term = ["op": "ping", "later": nested(129)]
        #expect(throws: WireError.badMessage(reason: "'later' nests 129 levels deep; the limit is 128")) {
            try Request(payload: TermCodec.encode(deep))
        }
        // Each argument, and a sent message, count from their own top.
        #expect(try Request(payload: TermCodec.encode(Request.call(module: "m", function: "f", args: [nested(128)]).term))
            == .call(module: "m", function: "f", args: [nested(128)]))
        #expect(throws: WireError.self) { try Request(payload: TermCodec.encode(Request.send(to: "x", message: nested(129)).term)) }
    }

    @Test("an optional bool of another type is a bad request, not a close")
    func optionalBoolOfTheWrongType() {
        #expect(throws: WireError.badMessage(reason: "'soft' must be true or false")) {
            try Request(term: ["op": "purge", "module": "m", "soft": 1])
        }
    }
}

@Suite struct FileNameLimitTests {
    @Test("the largest version a file name carries is 2^63 - 1; one more is not a file name (badRequest)")
    func largestVersion() {
        #expect(ArtifactName(fileName: "chat.v9223372036854775807-0123456789ab.so")?.version == Int.max)
        #expect(ArtifactName(fileName: "chat.v9223372036854775808-0123456789ab.so") == nil)
    }
}
