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
        case .cookie(let failure): failure.description
        case .failed(_, let message): message
        case .protocolError(let message): "connection to node failed: \(message)"
        case .badReply(let error): error.description
        }
    }

    /// Whether the node could not be reached or refused the cookie (exit 3).
    public var isUnreachable: Bool {
        switch self {
        case .unreachable, .refused, .cookie: true
        case .failed, .protocolError, .badReply: false
        }
    }
}

/// A connection to one node, speaking the control protocol. One thread uses
/// it at a time (it may be handed to another thread, hence Sendable).
public final class NodeClient: @unchecked Sendable {
    /// The address connected to.
    public let address: NodeAddress
    private let connection: Connection
    /// The name the node announced.
    public var nodeName: String { connection.peerName }

    /// Bytes per upload chunk: large enough that a module goes in one or two
    /// frames, small enough to stay far below the frame limit.
    public static let chunkSize = 1 << 20

    /// Connects and authenticates.
    public init(address: NodeAddress, cookieFile: String) throws(ClientError) {
        self.address = address
        let cookie: [UInt8]
        do { cookie = try Cookie.read(path: cookieFile) } catch { throw .cookie(error) }
        do {
            connection = try Connection.open(to: address, cookie: cookie)
        } catch {
            switch error {
            case .system(let e):
                throw .unreachable(address: address.description, reason: e.description)
            case .authenticationFailed, .malformedFrame:
                throw .refused(address: address.description)
            case .closed:
                throw .unreachable(address: address.description, reason: "the node closed the connection before its hello (too many connections?)")
            default:
                throw .protocolError(error.description)
            }
        }
    }

    deinit { connection.close() }

    /// Sends a request; returns the result or throws the node's error.
    public func request(_ request: Request) throws(ClientError) -> Term {
        let response: Response
        do { response = try connection.request(request) } catch { throw .protocolError(error.description) }
        switch response {
        case .ok(let value): return value
        case .error(let code, let message): throw .failed(code: code, message: message)
        }
    }

    /// Sends a request whose result is a reply document, and reads it.
    public func request<Reply: ReplyDocument>(_ request: Request, as type: Reply.Type) throws(ClientError) -> Reply {
        let result = try self.request(request)
        do { return try Reply(term: result) } catch { throw .badReply(error) }
    }

    /// Uploads an object file into the node's staging folder, verified by sha256.
    public func stage(path: String, fileName: String) throws(ClientError) {
        guard let bytes = readFile(path) else {
            throw .failed(code: .noFile, message: "cannot read \(path)")
        }
        let sha256 = SHA256Hasher.hex(of: bytes)
        do {
            try connection.send(Frame(.request, TermCodec.encode(Request.stage(file: fileName, size: bytes.count, sha256: sha256).term)))
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + Self.chunkSize, bytes.count)
                try connection.send(Frame(.chunk, Array(bytes[offset..<end])))
                offset = end
            }
        } catch {
            throw .protocolError(error.description)
        }
        let response: Response
        do { response = try connection.receiveResponse() } catch { throw .protocolError(error.description) }
        switch response {
        case .ok(let result): do { _ = try StageReply(term: result) } catch { throw .badReply(error) }
        case .error(let code, let message): throw .failed(code: code, message: message)
        }
    }
}
