#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire
import SystemPackage
import Logging
import Synchronization

/// The listening side of the control protocol: accepts connections, admits
/// and authenticates their handshakes, and hands each authenticated one to a
/// `ControlConnection` on a thread of its own; pauses all of it for a
/// compaction. What a request does is `RequestHandler`'s
/// (docs/ARCHITECTURE.md, "The control server").
public final class ControlServer: Sendable {
    let node: Node
    private let cookie: [UInt8]
    private let connections = Atomic<Int>(0)
    /// Connections still in their handshake, and their sockets.
    private let handshaking = Locked(
        (slots: HandshakeSlots<ObjectIdentifier>(capacity: maxHandshaking, perSource: maxHandshakingPerSource),
         sockets: [ObjectIdentifier: Socket]()))
    /// Authenticated connections' sockets, so that `stop` can shut them
    /// down; and whether it did, so that a connection authenticated after
    /// it is shut down at once.
    private let open = Locked((sockets: [ObjectIdentifier: Socket](), stopped: false))
    /// What the accepting thread, the connections, a compaction and the
    /// refusal summary wait on.
    private let events = ServerEvents(refusalInterval: refusalLogInterval)
    /// Connections waiting out a wrong cookie's delay.
    private let penalized = Atomic<Int>(0)
    /// Set while the node compacts: every connection but the one that asked
    /// answers its next request, or at once if idle, with `reconnect`, and
    /// closes (docs/ARCHITECTURE.md, "Compaction").
    let compacting = Atomic<Bool>(false)
    /// Authenticated connections beyond this are closed at once, so a flood
    /// cannot exhaust the node's threads; the node answers the ones it has.
    public static let maxConnections = 64
    /// Connections in their handshake beyond this evict one (see `HandshakeSlots`):
    /// a stranger holding silent connections open cannot lock a client out.
    public static let maxHandshaking = 32
    /// Connections in their handshake from one source (a process, a host)
    /// beyond this evict that source's oldest.
    public static let maxHandshakingPerSource = 8
    /// How long a client has to finish the whole handshake, however it
    /// spreads its bytes.
    public static let handshakeTimeout = Duration.seconds(2)
    /// How long an authenticated connection may stay silent before it is closed.
    public static let idleTimeout = Duration.seconds(300)
    /// Between the log's summaries of refused connections.
    public static let refusalLogInterval = Duration.seconds(10)
    /// How long a wrong cookie waits before its connection closes, so that
    /// guessing is slow.
    public static let wrongCookieDelay = Duration.milliseconds(200)
    /// How long the accepting thread stays paused for a compaction before it
    /// accepts again by itself. A compaction ends its pause well before (it
    /// gives up draining after 5 s); should one not, a connection accepted
    /// meanwhile is answered `reconnect`, which is safe, only not as smooth
    /// as a wait in the backlog.
    static let acceptPauseLimit = Duration.seconds(60)
    /// How long an evicted handshake's refusal frame may take to write.
    static let refusalWriteTimeout = Duration.milliseconds(100)

    init(node: Node, cookie: [UInt8]) {
        self.node = node
        self.cookie = cookie
    }

    /// Accepts connections until the listener is shut down, then closes it:
    /// only this thread accepts on it, so only this thread may close it.
    func serve(_ listener: Listener) {
        events.setListening(true)
        defer {
            events.setListening(false)
            listener.close()
        }
        do { try startThread { [self] in summarizeRefusals() } } catch { node.logger.warning("no thread to summarize refusals: \(error)") }
        while true {
            let socket: Socket
            do {
                socket = try listener.accept()
            } catch {
                if error.errno == .resourceTemporarilyUnavailable {
                    if !events.parkWhilePaused(limit: Self.acceptPauseLimit) {
                        node.logger.warning("the accept pause of a compaction outlasted \(Self.acceptPauseLimit); accepting again")
                    }
                    continue
                }
                if error.errno == .badFileDescriptor || error.errno == .invalidArgument { return }
                node.logger.warning("accept failed: \(error)")
                continue
            }
            admitHandshake(socket)
            events.arrived(ObjectIdentifier(socket))
            do {
                try startThread { [self] in
                    handle(socket)
                    events.left(ObjectIdentifier(socket))
                }
            } catch {
                // No thread for the connection: it is closed, the node goes on.
                events.left(ObjectIdentifier(socket))
                socket.close()
                node.logger.warning("connection refused: \(error)")
            }
        }
    }

    /// Stops accepting on `listener` (which this server serves) and makes
    /// every connection but `requester` answer `reconnect` and close; true
    /// once the accepting thread is parked and those connections have
    /// ended, false (having undone nothing: call `endCompaction`) at `deadline`.
    func beginCompaction(_ listener: Listener, requester: ObjectIdentifier?, until deadline: ContinuousClock.Instant) -> Bool {
        compacting.store(true, ordering: .sequentiallyConsistent)
        events.requestPause()
        listener.interruptAccept()
        open.withLock { table in
            // Idle connections wake now; one inside a request answers it
            // first, then finds `compacting` set.
            for (id, socket) in table.sockets where id != requester { socket.shutdownReading() }
        }
        return events.waitForDrain(leaving: requester, until: deadline)
    }

    /// Undoes `beginCompaction`: accepts and serves again.
    func endCompaction() {
        compacting.store(false, ordering: .sequentiallyConsistent)
        events.endPause()
    }

    /// Logs the summary of refusals at the end of each interval, even when
    /// no further connection comes to trigger it.
    private func summarizeRefusals() {
        while let line = events.nextRefusalSummary() { node.logger.notice("\(line)") }
    }

    private func refuse(_ refusal: Refusal, _ detail: String) {
        if let line = events.record(refusal, detail: detail) { node.logger.notice("\(line)") }
    }

    /// Gives a new connection a handshake slot; the connection evicted to
    /// make room has its reading shut down: its thread then fails its read,
    /// tells the client it was dropped for being busy, and closes. The
    /// shutdown happens under the lock: a socket still in the table has not
    /// been closed by its thread (`endHandshake` comes first), so its
    /// descriptor cannot have been handed to another connection meanwhile.
    private func admitHandshake(_ socket: Socket) {
        let id = ObjectIdentifier(socket)
        handshaking.withLock { table in
            table.sockets[id] = socket
            guard let evicted = table.slots.admit(id, from: socket.peer, at: .now) else { return }
            table.sockets.removeValue(forKey: evicted)?.shutdownReading()
        }
    }

    /// Shuts down every connection, in its handshake or authenticated (their
    /// threads then fail their reads, close their sockets and end), and any
    /// that authenticates later. The listener is the node's to shut down.
    func stop() {
        open.withLock { table in
            table.stopped = true
            for socket in table.sockets.values { socket.shutdown() }
        }
        handshaking.withLock { table in
            for socket in table.sockets.values { socket.shutdown() }
        }
        events.stop()
    }

    /// Records an authenticated connection; false once the server stopped.
    private func admitOpen(_ socket: Socket) -> Bool {
        open.withLock { table in
            guard !table.stopped else { return false }
            table.sockets[ObjectIdentifier(socket)] = socket
            return true
        }
    }

    /// Forgets an authenticated connection, before its thread closes it (so
    /// that `stop` never shuts down a descriptor number already reused).
    private func endOpen(_ socket: Socket) {
        _ = open.withLock { $0.sockets.removeValue(forKey: ObjectIdentifier(socket)) }
    }

    /// Frees a connection's handshake slot; false if it was evicted.
    private func endHandshake(_ socket: Socket) -> Bool {
        let id = ObjectIdentifier(socket)
        return handshaking.withLock { table in
            table.sockets[id] = nil
            return table.slots.remove(id)
        }
    }

    /// Tells a client whose connection is closed just after its welcome
    /// why, and that the node acted on nothing: it has a session, so
    /// `reconnect` reaches it as it does on a compacting node, where a
    /// silent close would leave it unsure whether its request was done
    /// (docs/PROTOCOL.md, "Connections").
    private func sendReconnect(_ connection: Connection, _ why: String) {
        let response = Response.error(code: .reconnect, message: "\(why); send the request again on a new connection")
        try? connection.send(Frame(.response, response.boundedPayload()))
    }

    /// Runs a connection's handshake, then serves it until it ends.
    private func handle(_ socket: Socket) {
        let connection: Connection
        do {
            connection = try Connection.accept(socket, cookie: cookie, nodeName: node.name, deadline: .now + Self.handshakeTimeout)
        } catch {
            let evicted = !endHandshake(socket)
            if evicted {
                // Said, so that the client does not read the close as a
                // refused cookie and can simply try again.
                try? socket.setWriteTimeout(Self.refusalWriteTimeout)
                var bytes: [UInt8] = []
                FrameCodec.encode(Handshake.refusal(reason: Handshake.busy), into: &bytes)
                try? socket.write(bytes)
            } else if case .authenticationFailed = error {
                // A wrong cookie waits a little before the close, so that
                // guessing is slow; a few at a time, so that a flood of wrong
                // proofs cannot hold a thread each. The wait has no event to
                // end it but the node stopping: its length is the point.
                if penalized.add(1, ordering: .relaxed).newValue <= Self.maxHandshaking {
                    events.waitForStop(until: .now + Self.wrongCookieDelay)
                }
                penalized.subtract(1, ordering: .relaxed)
            }
            refuse(Refusal(error, evicted: evicted), "\(socket.peer): \(error)")
            socket.close()
            return
        }
        guard endHandshake(socket) else {
            // Evicted between its welcome and here: its reading side is shut
            // down, so it cannot be served.
            sendReconnect(connection, "the node was busy with other handshakes and dropped this connection")
            refuse(.evicted, "\(socket.peer): evicted just after its handshake")
            connection.close()
            return
        }
        do {
            try socket.setReadTimeout(Self.idleTimeout)
            try socket.setWriteTimeout(Self.idleTimeout)
        } catch {
            node.logger.warning("connection dropped: \(error)")
            connection.close()
            return
        }
        guard connections.add(1, ordering: .relaxed).newValue <= Self.maxConnections else {
            connections.subtract(1, ordering: .relaxed)
            sendReconnect(connection, "the node serves \(Self.maxConnections) connections already, its limit, and closed this one")
            refuse(.tooManyConnections, "\(Self.maxConnections) connections already open")
            connection.close()
            return
        }
        guard admitOpen(socket) else {
            connections.subtract(1, ordering: .relaxed)
            connection.close()
            return
        }
        defer {
            endOpen(socket)
            connections.subtract(1, ordering: .relaxed)
            connection.close()
        }
        ControlConnection(connection, server: self, id: ObjectIdentifier(socket)).run()
    }
}
