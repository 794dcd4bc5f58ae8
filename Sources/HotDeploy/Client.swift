#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire

/// Why a request to a node did not succeed.
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// Nothing answers at the address.
    case unreachable(address: String, reason: String)
    /// The node refused the cookie, or did not prove it knows it.
    case refused(address: String)
    /// The node dropped the handshake because it was busy with others'.
    case busy(address: String)
    /// The cookie could not be read.
    case cookie(Cookie.Failure)
    /// The node answered with an error.
    case failed(code: ErrorCode, message: String)
    /// The connection broke or the node spoke nonsense.
    case protocolError(String)
    /// The node answered, but not with the document its request answers with.
    case badReply(ReplyError)

    public var description: String {
        switch self {
        case .unreachable(let address, let reason):
            "cannot reach node at \(address): \(reason); is it running? (hot start)"
        case .refused(let address):
            "node at \(address) refused the cookie; use the node's cookie file (--cookie-file)"
        case .busy(let address):
            "node at \(address) was busy with other connections' handshakes and dropped this one; try again"
        case .cookie(let failure): failure.description
        case .failed(_, let message): message
        case .protocolError(let message): "connection to node failed: \(message)"
        case .badReply(let error): error.description
        }
    }

    /// Whether the node could not be reached or refused the cookie (exit 3).
    public var isUnreachable: Bool {
        switch self {
        case .unreachable, .refused, .busy, .cookie: true
        case .failed, .protocolError, .badReply: false
        }
    }
}

/// A connection to one node, speaking the control protocol. One thread uses
/// it at a time (it may be handed to another thread, hence Sendable).
///
/// A node that is compacting answers a request it did not act on with the
/// error `reconnect` and closes the connection (docs/PROTOCOL.md, "compact");
/// the client then opens a new connection, waiting for the node to serve
/// again, and sends the same request there, whatever it is: the node never
/// acted on it. A connection closed with no answer at all stays an error, so a
/// request that changes the node is never sent twice.
public final class NodeClient: @unchecked Sendable {
    /// The address connected to.
    public let address: NodeAddress
    private let cookie: [UInt8]
    private var connection: Connection
    /// The name the node announced.
    public var nodeName: String { connection.peerName }

    /// Bytes per upload chunk: large enough that a module goes in one or two
    /// frames, small enough to stay far below the frame limit.
    public static let chunkSize = 1 << 20

    /// How long a client told to reconnect waits for the node to serve
    /// again: a compaction pauses a node for well under a second, and a
    /// node that crashed in its exec is restarted by its supervisor.
    public static let reconnectWait: Duration = .seconds(10)
    /// How often a client asks again while nothing listens yet or the node
    /// is busy: nothing tells a client when it will answer (the node may be
    /// another machine's).
    static let retryInterval: Duration = .milliseconds(50)

    /// How many `reconnect` answers in a row one request accepts: each is a
    /// compaction, and a node does not compact again and again.
    static let maxReconnects = 5

    /// Connects and authenticates.
    public convenience init(address: NodeAddress, cookieFile: String) throws(ClientError) {
        try self.init(address: address, cookieFile: cookieFile, waiting: .zero)
    }

    /// Connects and authenticates; while nothing answers at the address (a
    /// node restarting, or not yet listening), tries again for up to `wait`.
    public init(address: NodeAddress, cookieFile: String, waiting wait: Duration) throws(ClientError) {
        self.address = address
        do { cookie = try Cookie.read(path: cookieFile) } catch { throw .cookie(error) }
        connection = try Self.open(address, cookie: cookie, waiting: wait)
    }

    deinit { connection.close() }

    /// Opens an authenticated connection, trying again every 50 ms while
    /// the node is unreachable, until `wait` has passed.
    private static func open(_ address: NodeAddress, cookie: [UInt8], waiting wait: Duration) throws(ClientError) -> Connection {
        let deadline = ContinuousClock.now + wait
        while true {
            do {
                return try Connection.open(reaching: address, cookie: cookie)
            } catch {
                let failure = ClientError(opening: error, address: address)
                // A busy node dropped our handshake for newer ones: trying again is the cure.
                switch failure {
                case .unreachable, .busy: break
                default: throw failure
                }
                guard ContinuousClock.now + retryInterval < deadline else { throw failure }
                // Nothing listens yet (or the node is busy), and nothing tells
                // a client when it will answer: the question is asked again.
                pause(for: retryInterval)
            }
        }
    }

    /// Drops the connection the node closed and opens another.
    private func reopen() throws(ClientError) {
        connection.close()
        connection = try Self.open(address, cookie: cookie, waiting: Self.reconnectWait)
    }

    /// Runs one exchange (`send` writes the request, then the response is
    /// read); on an answer of `reconnect`, opens a new connection and runs
    /// it again there.
    private func exchange(replyWithin wait: Duration = .zero, _ send: (Connection) throws(WireError) -> Void) throws(ClientError) -> Term {
        var reconnects = 0
        while true {
            switch try respond(replyWithin: wait, send) {
            case .ok(let value):
                return value
            case .error(.reconnect, _) where reconnects < Self.maxReconnects:
                reconnects += 1
                try reopen()
            case .error(let code, let message):
                throw .failed(code: code, message: message)
            }
        }
    }

    /// Sends and reads the response, the node's `reconnect` included when
    /// it closed the connection under the write (`Connection.exchange`).
    private func respond(replyWithin wait: Duration, _ send: (Connection) throws(WireError) -> Void) throws(ClientError) -> Response {
        let connection = connection
        do {
            return try connection.exchange(replyWithin: wait) { () throws(WireError) in try send(connection) }
        } catch {
            throw .protocolError(error.description)
        }
    }

    /// Sends a request and reads the document it is answered with; throws
    /// the node's error, or `badReply` when the answer is not that document.
    public func request<Reply>(_ request: TypedRequest<Reply>) throws(ClientError) -> Reply {
        let frame = Frame(.request, TermCodec.encode(request.request.term))
        let result = try exchange(replyWithin: request.request.replyTimeout) { (connection) throws(WireError) in try connection.send(frame) }
        do { return try Reply(term: result) } catch { throw .badReply(error) }
    }

    /// Uploads an object file into the node's staging folder, verified by sha256.
    public func stage(path: String, fileName: String) throws(ClientError) {
        guard let bytes = readFile(path) else {
            throw .failed(code: .noFile, message: "cannot read \(path)")
        }
        try stage(bytes: bytes, fileName: fileName)
    }

    /// Uploads an object file's bytes into the node's staging folder, verified by sha256.
    public func stage(bytes: [UInt8], fileName: String) throws(ClientError) {
        let sha256 = SHA256Hasher.hex(of: bytes)
        let stage: TypedRequest<StageReply> = .stage(file: fileName, size: bytes.count, sha256: sha256)
        let header = Frame(.request, TermCodec.encode(stage.request.term))
        let result = try exchange { (connection) throws(WireError) in
            try connection.send(header)
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + Self.chunkSize, bytes.count)
                try connection.send(Frame(.chunk, Array(bytes[offset..<end])))
                offset = end
            }
        }
        do { _ = try StageReply(term: result) } catch { throw .badReply(error) }
    }
}

extension ClientError {
    /// The failure to open a connection, as a client reports it.
    init(opening error: WireError, address: NodeAddress) {
        switch error {
        case .system(let e):
            self = .unreachable(address: address.description, reason: e.description)
        case .authenticationFailed, .malformedFrame:
            self = .refused(address: address.description)
        case .refused(let reason) where reason == Handshake.busy:
            self = .busy(address: address.description)
        case .closed:
            self = .unreachable(address: address.description, reason: "the node closed the connection before its hello (too many connections?)")
        default:
            self = .protocolError(error.description)
        }
    }
}
