import Hot
import HotPlatform
import HotWire
import Logging

/// One authenticated connection, served on its own thread until it ends:
/// each request answered once and in order, uploads received from their
/// chunks, and a compaction's `reconnect` said (docs/PROTOCOL.md,
/// "Requests and responses"). What a request does is `RequestHandler`'s.
struct ControlConnection {
    private let connection: Connection
    private let server: ControlServer
    /// The connection's identity in the server's tables, which a compaction
    /// it asked for leaves open.
    private let id: ObjectIdentifier
    private let handler: RequestHandler
    /// A frame read in place of an upload's chunk, to serve next.
    private var interrupting: Frame?

    init(_ connection: Connection, server: ControlServer, id: ObjectIdentifier) {
        self.connection = connection
        self.server = server
        self.id = id
        self.handler = RequestHandler(node: server.node)
    }

    private var node: Node { server.node }
    private var compacting: Bool { server.compacting.load(ordering: .sequentiallyConsistent) }

    /// Serves requests until the client leaves, the stream breaks or the node compacts.
    mutating func run() {
        while true {
            if compacting { return sendReconnect() }
            let frame: Frame
            if let interrupting = interrupting.take() {
                frame = interrupting
            } else {
                do {
                    frame = try connection.receive()
                } catch {
                    if compacting {
                        sendReconnect()
                    } else if case .closed = error {} else {
                        node.logger.notice("connection dropped: \(error)")
                    }
                    return
                }
            }
            if compacting { return sendReconnect() }
            // No upload is under way (an upload reads its own chunks): the
            // rest of one refused or cut short, or bytes past its last.
            // Dropped unanswered, so that each request has one response.
            if frame.type == .chunk { continue }
            // The frame decoded and its MAC verified: the stream is sound, so
            // a bad request is answered and the connection goes on.
            let request: Request
            let response: Response
            do throws(WireError) {
                guard frame.type == .request else {
                    throw .badMessage(reason: "expected a request frame, got \(frame.type)")
                }
                request = try Request(payload: frame.payload)
            } catch {
                guard send(.error(code: .badRequest, message: error.reason)) else { return }
                continue
            }
            switch request {
            case .compact(let purge):
                guard let refusal = compact(purge: purge) else { return }
                response = refusal
            case .stage(let file, let size, let sha256):
                do throws(WireError) {
                    response = try stage(file, size: size, sha256: sha256)
                } catch {
                    node.logger.notice("connection dropped: \(error)")
                    return
                }
            default:
                response = handler.response(to: request)
            }
            guard send(response) else { return }
            if case .stop = request, case .ok = response { node.stop(reason: "stop requested") }
        }
    }

    /// Sends a response; false when the connection is gone.
    private func send(_ response: Response) -> Bool {
        do {
            try connection.send(Frame(.response, response.boundedPayload()))
            return true
        } catch {
            node.logger.notice("connection dropped: \(error)")
            return false
        }
    }

    /// Tells the client the node is compacting and did not act on its request.
    private func sendReconnect() {
        let response = Response.error(
            code: .reconnect, message: "the node is compacting and did not act on this request; send it again on a new connection")
        try? connection.send(Frame(.response, response.boundedPayload()))
    }

    /// Compacts the node: answered by `compact` itself, just before the
    /// exec, so a success never returns. The refusal to send, or nil when
    /// the client was answered already (the exec then failed) and the
    /// connection closes.
    private func compact(purge: Bool) -> Response? {
        let connection = connection
        var answered = false
        do {
            try node.compact(trigger: "request", purge: purge, requester: id) { reply in
                answered = (try? connection.send(Frame(.response, Response.ok(reply.term).boundedPayload()))) != nil
                return answered
            }
        } catch {
            node.logger.warning("\(error)")
            return answered ? nil : .error(code: error.code, message: error.description)
        }
    }

    /// Receives an upload. A refusal is answered at once, and the chunks
    /// the client may already be streaming are then dropped as they come
    /// (`run`), so that the client reads the refusal rather than a broken
    /// pipe (docs/PROTOCOL.md, "stage"). Throws when the connection cannot go on.
    private mutating func stage(_ file: String, size: Int, sha256: String) throws(WireError) -> Response {
        guard let name = ArtifactName(fileName: file) else {
            return .error(code: .badRequest, message: "'\(file)' is not a module version file name")
        }
        guard size <= Store.maxUpload else {
            return .error(code: .badUpload, message: "upload of \(size) bytes exceeds the limit of \(Store.maxUpload)")
        }
        let connection = connection
        var interrupting: Frame?
        do {
            let path = try node.store.receive(name, size: size, sha256: sha256) { () throws(WireError) -> [UInt8] in
                let frame = try connection.receive()
                guard frame.type == .chunk else {
                    // A request cut the upload short: it is served after the refusal.
                    interrupting = frame
                    throw .unexpectedFrame(expected: "chunk", got: "\(frame.type)")
                }
                return frame.payload
            }
            return .ok(StageReply(file: lastPathComponent(path)).term)
        } catch {
            if case .wire(let wire) = error, interrupting == nil { throw wire }
            node.logger.warning("upload of \(file) refused: \(error)")
            self.interrupting = interrupting
            return .error(code: .badUpload, message: error.description)
        }
    }
}

extension WireError {
    /// The text of a bad request's answer.
    fileprivate var reason: String {
        if case .badMessage(let reason) = self { return reason }
        return description
    }
}
