#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// A node's side of the control protocol on a real Unix socket, scripted
/// to do what a compacting node does to its open connections: answer
/// `reconnect` and close, or close with no answer. The client under test
/// is the real `NodeClient`.
private final class ScriptedNode: @unchecked Sendable {
    // @unchecked: the listener is used by the script's thread only, once
    // started; `requests` is guarded by its mutex.
    let folder: String
    let address: NodeAddress
    let cookieFile: String
    private let cookie: [UInt8]
    private var listener: Listener?
    private let requests = Mutex<[Request]>([])
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<String?>(nil)

    /// A node folder with a cookie; listening unless `listening` is false.
    init(listening: Bool = true) throws {
        var template = Array("/tmp/hot-reconnect.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        folder = String(cString: made)
        address = .unix(path: folder + "/node.sock")
        cookieFile = folder + "/cookie"
        cookie = try Cookie.create(path: cookieFile)
        if listening { try listen() }
    }

    func listen() throws { listener = try Listener.listen(on: address) }

    /// Every request the script read, in order.
    var received: [Request] { requests.withLock { $0 } }

    /// Runs `script` on a thread of its own (it blocks in accept and read).
    func run(_ script: @escaping @Sendable (ScriptedNode) throws -> Void) {
        try! startThread { [self] in
            do { try script(self) } catch { failure.withLock { $0 = "\(error)" } }
            done.signal()
        }
    }

    /// Waits for the script to end; records an issue if it failed or hung.
    func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        if done.wait(timeout: .now() + 10) == .timedOut {
            Issue.record("the scripted node did not finish", sourceLocation: sourceLocation)
            listener?.shutdown()
        }
        if let failure = failure.withLock({ $0 }) { Issue.record("scripted node: \(failure)", sourceLocation: sourceLocation) }
    }

    /// Stops listening and removes the folder.
    func close() {
        listener?.close()
        removeTree(folder)
    }

    /// Accepts the next connection and runs the node's side of the handshake.
    func accept() throws -> Connection {
        guard let listener else { throw SystemError("accept", errno: .badFileDescriptor) }
        let socket = try listener.accept()
        try socket.setReadTimeout(.seconds(5))
        try socket.setWriteTimeout(.seconds(5))
        return try Connection.accept(socket, cookie: cookie, nodeName: "scripted", deadline: .now + .seconds(5))
    }

    /// Reads the next request and records it.
    @discardableResult
    func receive(_ connection: Connection) throws -> Request {
        let request = try Request(payload: connection.receive().payload)
        requests.withLock { $0.append(request) }
        return request
    }

    func answer(_ connection: Connection, _ response: Response) throws {
        try connection.send(Frame(.response, TermCodec.encode(response.term)))
    }

    /// What a compacting node says to a connection before it closes it.
    static let reconnect = Response.error(code: .reconnect, message: "the node is compacting: send the request again on a new connection")

    /// Answers `reconnect` and closes, as a compacting node does.
    func sendAway(_ connection: Connection) throws {
        try answer(connection, Self.reconnect)
        connection.close()
    }

    /// Accepts the next connection, reads one request and answers it with
    /// `response`, then waits until the client closes.
    func serveOne(_ response: Response) throws {
        let connection = try accept()
        try receive(connection)
        try answer(connection, response)
        _ = try? connection.receive()
    }
}

@Suite("A client told to reconnect")
struct ReconnectTests {
    @Test("a request answered reconnect is sent again, once, on a new connection, and its answer returned")
    func requestSentAgain() throws {
        let node = try ScriptedNode()
        defer { node.close() }
        node.run { node in
            let first = try node.accept()
            try node.receive(first)
            try node.sendAway(first)
            try node.serveOne(.ok(LoadReply(modules: []).term))
        }
        let load = TypedRequest.load(files: ["hello.v2-0123456789ab.so"], purge: false, force: false)
        let client = try NodeClient(address: node.address, cookieFile: node.cookieFile)
        #expect(try client.request(load) == LoadReply(modules: []))
        _ = consume client
        node.finish()
        #expect(node.received == [load.request, load.request])
    }

    @Test("an idle connection the node told to reconnect and closed: the next request reads that answer and goes to a new connection")
    func idleConnectionTold() throws {
        let node = try ScriptedNode()
        defer { node.close() }
        let closed = DispatchSemaphore(value: 0)
        node.run { node in
            try node.sendAway(try node.accept())
            closed.signal()
            try node.serveOne(.ok(.string("scripted")))
        }
        let client = try NodeClient(address: node.address, cookieFile: node.cookieFile)
        #expect(closed.wait(timeout: .now() + 5) == .success)
        // The write meets a closed socket (EPIPE); the answer waits unread.
        #expect(try client.request(.ping).node == "scripted")
        _ = consume client
        node.finish()
        #expect(node.received == [.ping])
    }

    @Test("an upload the node cut short with reconnect is uploaded again, whole, on a new connection")
    func stageSentAgain() throws {
        let node = try ScriptedNode()
        defer { node.close() }
        // Several chunks, more than a socket buffers: the client is still
        // writing when the node closes on it.
        var object = [UInt8](repeating: 0, count: 3 * NodeClient.chunkSize + 17)
        for index in object.indices { object[index] = UInt8(truncatingIfNeeded: index &* 31) }
        let path = node.folder + "/hello.v1-0123456789ab.so"
        try writeFileAtomically(path, object)
        let expected = object
        node.run { node in
            let first = try node.accept()
            try node.receive(first)
            try node.sendAway(first)
            let second = try node.accept()
            guard case .stage(let file, let size, let sha256) = try node.receive(second) else { throw SystemError("no stage") }
            var bytes: [UInt8] = []
            while bytes.count < size { bytes += try second.receive().payload }
            guard bytes == expected, SHA256Hasher.hex(of: bytes) == sha256 else { throw SystemError("the upload differs") }
            try node.answer(second, .ok(StageReply(file: file).term))
            _ = try? second.receive()
        }
        let client = try NodeClient(address: node.address, cookieFile: node.cookieFile)
        try client.stage(path: path, fileName: "hello.v1-0123456789ab.so")
        _ = consume client
        node.finish()
        #expect(node.received.count == 2)
        #expect(Set(node.received.map { "\($0)" }).count == 1, "the same stage request twice: \(node.received)")
    }

    @Test("a connection closed with no answer is an error, and the request is never sent again")
    func closedWithoutAnswer() throws {
        let node = try ScriptedNode()
        defer { node.close() }
        node.run { node in
            let first = try node.accept()
            try node.receive(first)
            first.close()
            // The next connection's first request shows whether the load came again.
            try node.serveOne(.ok(.string("scripted")))
        }
        let load = TypedRequest.load(files: ["hello.v2-0123456789ab.so"], purge: false, force: false)
        let client = try NodeClient(address: node.address, cookieFile: node.cookieFile)
        #expect(throws: ClientError.self) { try client.request(load) }
        let other = try NodeClient(address: node.address, cookieFile: node.cookieFile)
        #expect(try other.request(.ping).node == "scripted")
        _ = consume client
        _ = consume other
        node.finish()
        #expect(node.received == [load.request, .ping])
    }

    @Test("a node told reconnect again and again is given up on, saying so")
    func reconnectBounded() throws {
        let node = try ScriptedNode()
        defer { node.close() }
        node.run { node in
            for _ in 0..<6 {
                let connection = try node.accept()
                try node.receive(connection)
                try node.sendAway(connection)
            }
        }
        let client = try NodeClient(address: node.address, cookieFile: node.cookieFile)
        do {
            _ = try client.request(.status)
            Issue.record("a node that only ever says reconnect answered")
        } catch {
            guard case .failed(.reconnect, _) = error else {
                Issue.record("\(error)")
                return
            }
        }
        _ = consume client
        node.finish()
        #expect(node.received == Array(repeating: .status, count: 6))
    }

    @Test("a connection waits, within its deadline, for a node that is not listening yet")
    func connectWaits() throws {
        let node = try ScriptedNode(listening: false)
        defer { node.close() }
        #expect(throws: ClientError.self) { try NodeClient(address: node.address, cookieFile: node.cookieFile) }
        let started = monotonic()
        #expect(throws: ClientError.self) { try NodeClient(address: node.address, cookieFile: node.cookieFile, waiting: .milliseconds(300)) }
        #expect(monotonic() - started < 2, "the wait ends at its deadline")
        node.run { node in
            usleep(300_000)
            try node.listen()
            try node.serveOne(.ok(.string("scripted")))
        }
        let client = try NodeClient(address: node.address, cookieFile: node.cookieFile, waiting: .seconds(5))
        #expect(try client.request(.ping).node == "scripted")
        _ = consume client
        node.finish()
    }
}
