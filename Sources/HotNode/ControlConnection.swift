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
    private let handler: RequestHandler
    /// What `stage` and `compact` borrow of the connection.
    private let side: ConnectionSide

    init(_ connection: Connection, server: ControlServer, id: ObjectIdentifier) {
        self.connection = connection
        self.server = server
        self.handler = RequestHandler(node: server.node)
        self.side = ConnectionSide(connection, id: id)
    }

    private var node: Node { server.node }
    private var compacting: Bool { server.compacting.load(ordering: .sequentiallyConsistent) }

    /// Serves requests until the client leaves, the stream breaks or the node compacts.
    func run() {
        while true {
            if compacting { return sendReconnect() }
            let frame: Frame
            if let interrupting = side.interrupting.take() {
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
            do throws(WireError) {
                guard frame.type == .request else {
                    throw .badMessage(reason: "expected a request frame, got \(frame.type)")
                }
                request = try Request(payload: frame.payload)
            } catch {
                guard send(.error(code: .badRequest, message: error.reason)) else { return }
                continue
            }
            guard let response = handler.response(to: request, on: side) else {
                if let broken = side.broken { node.logger.notice("connection dropped: \(broken)") }
                return
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
}

extension WireError {
    /// The text of a bad request's answer.
    fileprivate var reason: String {
        if case .badMessage(let reason) = self { return reason }
        return description
    }
}
