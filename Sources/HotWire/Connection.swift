#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import SystemPackage

/// One end of a control connection: frames over a socket, authenticated once
/// the handshake has run. Used by one thread at a time.
public final class Connection: @unchecked Sendable {
    // @unchecked: a connection belongs to the one thread serving it; only
    // `socket.shutdown()` is called from elsewhere, and that is thread-safe.
    /// The underlying socket.
    public let socket: Socket
    private var decoder = FrameDecoder()
    private var session: Session?
    /// The node's name, as announced in its hello (client side).
    public private(set) var peerName = ""
    /// While set (the node's side of a handshake), the monotonic instant by
    /// which the whole exchange must end: each read and write may block only
    /// for the time left, so a peer trickling a byte at a time gains nothing.
    private var deadline: ContinuousClock.Instant?
    /// How long one read waits on the client's side, as set when it opened.
    private var readTimeout = Connection.defaultTimeout

    init(socket: Socket) { self.socket = socket }

    /// How long a client's reads and writes wait for the node.
    public static let defaultTimeout = Duration.seconds(10)

    /// Connects and runs the client's side of the handshake.
    public static func open(
        to address: NodeAddress, cookie: [UInt8], timeout: Duration = defaultTimeout
    ) throws(WireError) -> Connection {
        let socket: Socket
        do { socket = try Socket.connect(to: address) } catch { throw .system(error) }
        return try open(over: socket, cookie: cookie, timeout: timeout)
    }

    /// Runs the client's side of the handshake over a socket already
    /// connected (a tunnel's, say).
    public static func open(
        over socket: Socket, cookie: [UInt8], timeout: Duration = defaultTimeout
    ) throws(WireError) -> Connection {
        do {
            try socket.setReadTimeout(timeout)
            try socket.setWriteTimeout(timeout)
        } catch {
            throw .system(error)
        }
        let connection = Connection(socket: socket)
        connection.readTimeout = timeout
        var handshake = ClientHandshake(cookie: cookie)
        let challenge = try handshake.answer(connection.receive())
        // A node that dropped the handshake meanwhile may have closed before
        // our proof went out: its refusal frame is still there to read.
        var sent = true
        do { try connection.send(challenge) } catch .closed { sent = false }
        // A close after our proof is the node refusing the cookie; a refusal
        // frame is the node dropping the handshake for another reason.
        let welcome: Frame
        do { welcome = try connection.receive() } catch {
            if case .closed = error { throw sent ? .authenticationFailed : .closed }
            throw error
        }
        let session = try handshake.finish(welcome)
        connection.establish(session)
        connection.peerName = handshake.nodeName
        return connection
    }

    /// Runs the node's side of the handshake on an accepted socket; the whole
    /// handshake must end by `deadline`, not each read.
    public static func accept(
        _ socket: Socket, cookie: [UInt8], nodeName: String, deadline: ContinuousClock.Instant
    ) throws(WireError) -> Connection {
        let connection = Connection(socket: socket)
        connection.deadline = deadline
        let handshake = NodeHandshake(cookie: cookie, nodeName: nodeName)
        try connection.send(handshake.hello())
        let (welcome, session) = try handshake.accept(connection.receive())
        try connection.send(welcome)
        connection.establish(session)
        connection.deadline = nil
        return connection
    }

    /// Bounds the next blocking call by the time left before the deadline.
    private func armDeadline(forWrite: Bool) throws(WireError) {
        guard let deadline else { return }
        let left = deadline - .now
        guard left > .zero else { throw .timedOut }
        do {
            if forWrite {
                try socket.setWriteTimeout(left)
            } else {
                try socket.setReadTimeout(left)
            }
        } catch {
            throw .system(error)
        }
    }

    private func establish(_ session: Session) {
        self.session = session
        decoder.maxLength = FrameLimits.maxFrameLength
        decoder.macLength = FrameLimits.macLength
    }

    /// Sends one frame, sealed with the session's MAC once there is a session.
    public func send(_ frame: Frame) throws(WireError) {
        var bytes: [UInt8] = []
        let mac = session?.seal(frame) ?? []
        FrameCodec.encode(frame, mac: mac, into: &bytes)
        try armDeadline(forWrite: true)
        do {
            try socket.write(bytes)
        } catch {
            if error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock { throw .timedOut }
            throw error.errno == .brokenPipe || error.errno == .connectionReset ? .closed : .system(error)
        }
    }

    /// Receives the next frame, checking its MAC once there is a session.
    public func receive() throws(WireError) -> Frame {
        while true {
            if let (frame, mac) = try decoder.next() {
                if session != nil { try session?.open(frame, mac: mac) }
                return frame
            }
            let bytes: [UInt8]
            try armDeadline(forWrite: false)
            do {
                bytes = try socket.read(upTo: 64 << 10)
            } catch {
                if error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock { throw .timedOut }
                if error.errno == .connectionReset { throw .closed }
                throw .system(error)
            }
            if bytes.isEmpty {
                throw decoder.bufferedCount > 0 ? .malformedFrame(reason: "connection closed mid-frame") : .closed
            }
            decoder.append(bytes)
        }
    }

    /// Sends a request and waits for its response.
    public func request(_ request: Request) throws(WireError) -> Response {
        try exchange(replyWithin: request.replyTimeout) { () throws(WireError) in
            try send(Frame(.request, TermCodec.encode(request.term)))
        }
    }

    /// Runs `write` (the frames of one request) and reads the response.
    /// A node may answer and close before the write is done: a node that
    /// compacts answers `reconnect` on an idle connection before any request
    /// comes (docs/PROTOCOL.md, "compact"), and one that refuses an upload
    /// part way says why. The write then fails, and that answer, already
    /// here, is the response; with none waiting, the connection is closed.
    /// The response is waited for at most `replyWithin`, or the
    /// connection's read timeout if that is longer.
    public func exchange(replyWithin wait: Duration = .zero, _ write: () throws(WireError) -> Void) throws(WireError) -> Response {
        do {
            try write()
        } catch .closed {
            if let response = try? receiveResponse() { return response }
            throw .closed
        }
        return try receiveResponse(within: wait)
    }

    /// Waits for a response frame, at most `wait` or the connection's read
    /// timeout, whichever is longer.
    public func receiveResponse(within wait: Duration = .zero) throws(WireError) -> Response {
        if wait > readTimeout {
            do { try socket.setReadTimeout(wait) } catch { throw .system(error) }
        }
        defer { if wait > readTimeout { try? socket.setReadTimeout(readTimeout) } }
        let frame = try receive()
        guard frame.type == .response else { throw .unexpectedFrame(expected: "response", got: "\(frame.type)") }
        return try Response(payload: frame.payload)
    }

    /// Closes the socket.
    public func close() { socket.close() }
}
