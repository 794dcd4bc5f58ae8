import Foundation
import Hot
import HotPlatform
import HotWire
import Synchronization
import Testing

@testable import HotWire

private let cookie = Array("connection-test-cookie-0123456789".utf8)

/// A fresh folder under /tmp (mkdtemp); the caller removes it in a defer.
private struct ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/hot-conn-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        guard made else { throw SystemError("mkdtemp") }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() { removeTree(path) }
}

/// A body run on its own thread: the node's side blocks in accept and read,
/// which must not tie up a thread of Swift's small cooperative pool.
private final class ServerThread: @unchecked Sendable {
    // @unchecked: `error` is written by the thread before `done` is signalled
    // and read only after waiting on `done`.
    private let done = DispatchSemaphore(value: 0)
    private var error: (any Error)?

    init(_ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { self.error = error }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the body to end; whether it did in time, and what it threw.
    func wait(seconds: Int = 10) -> (finished: Bool, error: (any Error)?) {
        let finished = done.wait(timeout: .now() + .seconds(seconds)) == .success
        return (finished, finished ? error : nil)
    }
}

/// What the node side refused with, for the test to check.
private struct ServerFailure: Error, CustomStringConvertible {
    let description: String
}

/// Accepts one connection and answers `requests` pings with the node's name.
private func servePings(_ listener: Listener, cookie: [UInt8], name: String, requests: Int) throws {
    let socket = try listener.accept()
    defer { socket.close() }
    try socket.setReadTimeout(.seconds(5))
    try socket.setWriteTimeout(.seconds(5))
    let connection = try Connection.accept(socket, cookie: cookie, nodeName: name, deadline: .now + .seconds(10))
    for _ in 0..<requests {
        let frame = try connection.receive()
        guard frame.type == .request else { throw ServerFailure(description: "got a \(frame.type) frame") }
        let request = try Request(term: TermCodec.decode(frame.payload))
        guard request == .ping else { throw ServerFailure(description: "got \(request)") }
        try connection.send(Frame(.response, TermCodec.encode(Response.ok(.string(name)).term)))
    }
}

@Suite struct ConnectionTests {
    @Test func pingOverUnixSocket() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let listener = try Listener.listen(on: .unix(path: dir.path + "/node.sock"))
        defer { listener.close() }
        #expect(listener.address == .unix(path: dir.path + "/node.sock"))
        let server = ServerThread { try servePings(listener, cookie: cookie, name: "alpha", requests: 2) }

        let connection = try Connection.open(to: listener.address, cookie: cookie, timeout: .seconds(5))
        defer { connection.close() }
        #expect(connection.peerName == "alpha")
        #expect(try connection.request(.ping) == .ok(.string("alpha")))
        // A second request: the sequence numbers advance in step on both ends.
        #expect(try connection.request(.ping) == .ok(.string("alpha")))

        let result = server.wait()
        #expect(result.finished)
        #expect(result.error == nil, "node side failed: \(String(describing: result.error))")
    }

    @Test func wrongCookieGetsNoSession() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let listener = try Listener.listen(on: .unix(path: dir.path + "/node.sock"))
        defer { listener.close() }
        let server = ServerThread { try servePings(listener, cookie: cookie, name: "alpha", requests: 1) }

        var opened: Connection?
        #expect(throws: WireError.self) {
            opened = try Connection.open(to: listener.address, cookie: Array("wrong".utf8), timeout: .seconds(5))
        }
        #expect(opened == nil)

        let result = server.wait()
        #expect(result.finished)
        #expect(result.error as? WireError == .authenticationFailed)
    }

    @Test("a node that drops the handshake as busy is read as busy, not as a refused cookie, whether or not the challenge could still be written")
    func busyRefusalBeforeTheChallenge() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let listener = try Listener.listen(on: .unix(path: dir.path + "/node.sock"))
        defer { listener.close() }
        // The node's side of an evicted handshake: hello, refusal, close,
        // without reading a byte of the client's.
        let server = ServerThread {
            let socket = try listener.accept()
            defer { socket.close() }
            var bytes: [UInt8] = []
            FrameCodec.encode(NodeHandshake(cookie: cookie, nodeName: "alpha").hello(), into: &bytes)
            FrameCodec.encode(Handshake.refusal(reason: Handshake.busy), into: &bytes)
            try socket.write(bytes)
        }
        #expect(throws: WireError.refused(reason: Handshake.busy)) {
            _ = try Connection.open(to: listener.address, cookie: cookie, timeout: .seconds(5))
        }
        #expect(server.wait().finished)
        #expect(WireError.refused(reason: Handshake.busy).description.contains("busy"))
    }

    @Test func pingOverTCPOnAnEphemeralPort() throws {
        let listener = try Listener.listen(on: .tcp(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        guard case .tcp(let host, let port) = listener.address else {
            Issue.record("a TCP listener reports a TCP address, not \(listener.address)")
            return
        }
        #expect(host == "127.0.0.1")
        #expect(port != 0, "Listener.address must give the port the kernel chose")
        let server = ServerThread { try servePings(listener, cookie: cookie, name: "tcp-node", requests: 1) }

        let connection = try Connection.open(to: .tcp(host: "127.0.0.1", port: port), cookie: cookie, timeout: .seconds(5))
        defer { connection.close() }
        #expect(connection.peerName == "tcp-node")
        #expect(try connection.request(.ping) == .ok(.string("tcp-node")))

        let result = server.wait()
        #expect(result.finished)
        #expect(result.error == nil, "node side failed: \(String(describing: result.error))")
    }

    @Test func liveUnixSocketIsNotStolen() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let path = dir.path + "/node.sock"
        let first = try Listener.listen(on: .unix(path: path))
        defer { first.close() }
        // Something answers on the path: a second listener must refuse.
        #expect(throws: SystemError.self) { try Listener.listen(on: .unix(path: path)) }
        #expect(fileExists(path))
    }

    @Test func staleUnixSocketIsReplaced() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let path = dir.path + "/node.sock"
        // A socket file nobody listens on, as a crashed node leaves behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        Glibc.close(fd)
        #expect(bound == 0)
        #expect(fileExists(path))
        let listener = try Listener.listen(on: .unix(path: path))
        listener.close()
    }
}

/// The handshake's time limit is for the whole exchange, and the transport
/// tells the node who connected.
@Suite struct HandshakeDeadlineTests {
    @Test("a client trickling its challenge a byte at a time is cut off at the deadline, not per read")
    func tricklingClientMeetsTheDeadline() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let listener = try Listener.listen(on: .unix(path: dir.path + "/node.sock"))
        defer { listener.close() }
        let took = Mutex<Double>(0)
        let server = ServerThread {
            let socket = try listener.accept()
            defer { socket.close() }
            let started = monotonic()
            defer { took.withLock { $0 = monotonic() - started } }
            _ = try Connection.accept(socket, cookie: cookie, nodeName: "alpha", deadline: .now + .seconds(1))
        }
        let client = try Socket.connect(to: listener.address)
        defer { client.close() }
        try client.setReadTimeout(.seconds(5))
        _ = try client.read(upTo: 4096)  // the hello
        // A challenge frame's first bytes, one every 200 ms: each read alone
        // is well inside the limit; the whole would take 40 s.
        var challenge: [UInt8] = []
        FrameCodec.encode(Frame(.challenge, randomBytes(200)), into: &challenge)
        for byte in challenge.prefix(15) {
            guard (try? client.write([byte])) != nil else { break }
            usleep(200_000)
        }
        let result = server.wait()
        #expect(result.finished)
        #expect(result.error as? WireError == .timedOut, "\(String(describing: result.error))")
        let elapsed = took.withLock { $0 }
        #expect(elapsed >= 0.9 && elapsed < 1.5, "the node gave up after \(elapsed) s; the deadline was 1 s")
    }

    @Test("an accepted Unix connection names the connecting process")
    func unixPeerIsTheProcess() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let listener = try Listener.listen(on: .unix(path: dir.path + "/node.sock"))
        defer { listener.close() }
        let client = try Socket.connect(to: listener.address)
        defer { client.close() }
        let accepted = try listener.accept()
        defer { accepted.close() }
        #expect(accepted.peer == .process(uid: getuid(), pid: getpid()))
    }

    @Test("an accepted TCP connection names the peer's address, not its port")
    func tcpPeerIsTheHost() throws {
        let listener = try Listener.listen(on: .tcp(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let client = try Socket.connect(to: listener.address)
        defer { client.close() }
        let accepted = try listener.accept()
        defer { accepted.close() }
        #expect(accepted.peer == .host("127.0.0.1"))
    }
}
