#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire
import SystemPackage
import Logging
import Synchronization

/// Serves the control protocol: one thread per connection, each request
/// answered in order.
public final class ControlServer: Sendable {
    private let node: Node
    private let cookie: [UInt8]
    private let connections = Atomic<Int>(0)
    /// Connections still in their handshake, and their sockets.
    private let handshaking = Mutex(
        (slots: HandshakeSlots<ObjectIdentifier>(capacity: maxHandshaking, perSource: maxHandshakingPerSource),
         sockets: [ObjectIdentifier: Socket]()))
    /// Authenticated connections' sockets, so that `stop` can shut them
    /// down; and whether it did, so that a connection authenticated after
    /// it is shut down at once.
    private let open = Mutex((sockets: [ObjectIdentifier: Socket](), stopped: false))
    private let refusals = Mutex(RefusalTally(interval: refusalLogInterval))
    private let listening = Atomic<Bool>(false)
    /// Connections waiting out a wrong cookie's delay.
    private let penalized = Atomic<Int>(0)
    /// Set while the node compacts: every connection but the one that asked
    /// answers its next request, or at once if idle, with `reconnect`, and
    /// closes (docs/ARCHITECTURE.md, "Compaction").
    private let compacting = Atomic<Bool>(false)
    /// The accepting thread's pause: asked for by a compaction, and whether
    /// the thread has stopped accepting.
    private let acceptPause = Mutex((requested: false, parked: false))
    /// Every connection from its accept to the end of its thread, whatever
    /// table it is in meanwhile: what a compaction waits to see end.
    private let alive = Mutex(Set<ObjectIdentifier>())
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
    public static let handshakeTimeoutMilliseconds = 2_000
    /// How long an authenticated connection may stay silent before it is closed.
    public static let idleTimeoutMilliseconds = 300_000
    /// Seconds between the log's summaries of refused connections.
    public static let refusalLogInterval = 10.0

    init(node: Node, cookie: [UInt8]) {
        self.node = node
        self.cookie = cookie
    }

    /// Accepts connections until the listener is shut down, then closes it:
    /// only this thread accepts on it, so only this thread may close it.
    func serve(_ listener: Listener) {
        listening.store(true, ordering: .relaxed)
        defer {
            listening.store(false, ordering: .relaxed)
            listener.close()
        }
        do { try startThread { [self] in summarizeRefusals() } } catch { node.logger.warning("no thread to summarize refusals: \(error)") }
        while true {
            let socket: Socket
            do {
                socket = try listener.accept()
            } catch {
                if error.errno == .resourceTemporarilyUnavailable {
                    parkWhilePaused()
                    continue
                }
                if error.errno == .badFileDescriptor || error.errno == .invalidArgument { return }
                node.logger.warning("accept failed: \(error)")
                continue
            }
            admitHandshake(socket)
            alive.withLock { _ = $0.insert(ObjectIdentifier(socket)) }
            do {
                try startThread { [self] in
                    handle(socket)
                    alive.withLock { _ = $0.remove(ObjectIdentifier(socket)) }
                }
            } catch {
                // No thread for the connection: it is closed, the node goes on.
                alive.withLock { _ = $0.remove(ObjectIdentifier(socket)) }
                socket.close()
                node.logger.warning("connection refused: \(error)")
            }
        }
    }

    /// Accepts nothing while a compaction asks it; connections meanwhile
    /// wait in the listening socket's backlog, for this process if the
    /// compaction fails, for the new one if it does not.
    private func parkWhilePaused() {
        acceptPause.withLock { $0.parked = $0.requested }
        while acceptPause.withLock({ $0.requested }) { usleep(1000) }
        acceptPause.withLock { $0.parked = false }
    }

    /// Stops accepting on `listener` (which this server serves) and makes
    /// every connection but `requester` answer `reconnect` and close; true
    /// once the accepting thread is parked and those connections have
    /// ended, false (having undone nothing: call `endCompaction`) at `deadline`.
    func beginCompaction(_ listener: Listener, requester: ObjectIdentifier?, until deadline: Double) -> Bool {
        compacting.store(true, ordering: .sequentiallyConsistent)
        acceptPause.withLock { $0.requested = true }
        listener.interruptAccept()
        open.withLock { table in
            // Idle connections wake now; one inside a request answers it
            // first, then finds `compacting` set.
            for (id, socket) in table.sockets where id != requester { socket.shutdownReading() }
        }
        while monotonic() < deadline {
            let parked = acceptPause.withLock { $0.parked } || !listening.load(ordering: .relaxed)
            let others = alive.withLock { $0.contains { $0 != requester } }
            if parked && !others { return true }
            usleep(1000)
        }
        return false
    }

    /// Undoes `beginCompaction`: accepts and serves again.
    func endCompaction() {
        compacting.store(false, ordering: .sequentiallyConsistent)
        acceptPause.withLock { $0.requested = false }
    }

    /// Tells a client the node is compacting and did not act on its request.
    private func sendReconnect(_ connection: Connection) {
        let response = Response.error(
            code: .reconnect, message: "the node is compacting and did not act on this request; send it again on a new connection")
        try? connection.send(Frame(.response, response.boundedPayload()))
    }

    /// Logs the summary of refusals at the end of each interval, even when
    /// no further connection comes to trigger it.
    private func summarizeRefusals() {
        while listening.load(ordering: .relaxed) {
            usleep(1_000_000)
            if let line = refusals.withLock({ $0.flush(at: monotonic()) }) { node.logger.notice("\(line)") }
        }
    }

    private func refuse(_ refusal: Refusal, _ detail: String) {
        if let line = refusals.withLock({ $0.record(refusal, detail: detail, at: monotonic()) }) {
            node.logger.notice("\(line)")
        }
    }

    /// Gives a new connection a handshake slot; the connection evicted to
    /// make room is shut down (its thread then fails its read and ends).
    /// The shutdown happens under the lock: a socket still in the table has
    /// not been closed by its thread (`endHandshake` comes first), so its
    /// descriptor cannot have been handed to another connection meanwhile.
    private func admitHandshake(_ socket: Socket) {
        let id = ObjectIdentifier(socket)
        handshaking.withLock { table in
            table.sockets[id] = socket
            guard let evicted = table.slots.admit(id, from: socket.peer, at: monotonic()) else { return }
            table.sockets.removeValue(forKey: evicted)?.shutdown()
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

    private func handle(_ socket: Socket) {
        let connection: Connection
        do {
            let deadline = monotonic() + Double(Self.handshakeTimeoutMilliseconds) / 1000
            connection = try Connection.accept(socket, cookie: cookie, nodeName: node.name, deadline: deadline)
        } catch {
            let evicted = !endHandshake(socket)
            // A wrong cookie waits a little before the close, so that guessing
            // is slow; a few at a time, so that a flood of wrong proofs cannot
            // hold a thread each.
            if case .authenticationFailed = error {
                if penalized.add(1, ordering: .relaxed).newValue <= Self.maxHandshaking { usleep(200_000) }
                penalized.subtract(1, ordering: .relaxed)
            }
            refuse(Refusal(error, evicted: evicted), "\(socket.peer): \(error)")
            socket.close()
            return
        }
        _ = endHandshake(socket)
        do {
            try socket.setReadTimeout(milliseconds: Self.idleTimeoutMilliseconds)
            try socket.setWriteTimeout(milliseconds: Self.idleTimeoutMilliseconds)
        } catch {
            node.logger.warning("connection dropped: \(error)")
            connection.close()
            return
        }
        guard connections.add(1, ordering: .relaxed).newValue <= Self.maxConnections else {
            connections.subtract(1, ordering: .relaxed)
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
        var exchange = Exchange()
        while true {
            if compacting.load(ordering: .sequentiallyConsistent) {
                sendReconnect(connection)
                return
            }
            let frame: Frame
            if let interrupting = exchange.interrupting.take() {
                frame = interrupting
            } else {
                do {
                    frame = try connection.receive()
                } catch {
                    if compacting.load(ordering: .sequentiallyConsistent) {
                        sendReconnect(connection)
                    } else if case .closed = error {} else {
                        node.logger.notice("connection dropped: \(error)")
                    }
                    return
                }
            }
            if compacting.load(ordering: .sequentiallyConsistent) {
                sendReconnect(connection)
                return
            }
            // The chunks of a refused upload, still arriving: dropped unanswered.
            if frame.type == .chunk && exchange.discarding > 0 {
                exchange.discarding -= min(frame.payload.count, exchange.discarding)
                continue
            }
            exchange.discarding = 0
            // The frame decoded and its MAC verified: the stream is sound, so
            // a bad request is answered and the connection goes on.
            let response: Response
            var stopping = false
            do throws(WireError) {
                guard frame.type == .request else {
                    throw .badMessage(reason: "expected a request frame, got \(frame.type)")
                }
                let request = try Request(payload: frame.payload)
                if case .compact(let purge) = request {
                    // Answered by `compact` itself, just before the exec; if
                    // the exec then fails, the client has its answer already
                    // and the connection closes.
                    var answered = false
                    do {
                        try node.compact(trigger: "request", purge: purge, requester: ObjectIdentifier(socket)) { reply in
                            answered = (try? connection.send(Frame(.response, Response.ok(reply.term).boundedPayload()))) != nil
                            return answered
                        }
                    } catch {
                        node.logger.warning("\(error)")
                        if answered { return }
                        response = .error(code: error.code, message: error.description)
                    }
                } else {
                    response = try serve(request, on: connection, &exchange)
                }
                if case .stop = request, case .ok = response { stopping = true }
            } catch {
                guard case .badMessage(let reason) = error else {
                    node.logger.notice("connection dropped: \(error)")
                    return
                }
                response = .error(code: .badRequest, message: reason)
            }
            do {
                try connection.send(Frame(.response, response.boundedPayload()))
            } catch {
                node.logger.notice("connection dropped: \(error)")
                return
            }
            if stopping { node.stop(reason: "stop requested") }
        }
    }

    /// Serves one request; throws only when the connection cannot go on.
    private func serve(_ request: Request, on connection: Connection, _ exchange: inout Exchange) throws(WireError) -> Response {
        switch request {
        case .ping:
            return .ok(.string(node.name))
        case .status:
            return .ok(node.statusDocument().term)
        case .stop:
            return .ok(.string(node.name))
        case .call(let module, let function, let args):
            do {
                // One argument needs no array on the node's side either.
                let exports = node.codeServer.exports
                return .ok(try args.count == 1 ? exports.call(module, function, argument: args[0]) : exports.call(module, function, args))
            } catch {
                return .error(code: error.code, message: error.description)
            }
        case .spawn(let module, let function, let args, let name):
            do {
                let kernel = node.kernel
                let isServer = node.codeServer.exports.currentLoading(module)?.server(function) != nil
                let pid = try isServer
                    ? kernel.startServer(module, function, args, name: name)
                    : kernel.spawn(module, function, args, name: name)
                return .ok(.pid(pid))
            } catch let error as CallError {
                return .error(code: error.code, message: error.description)
            } catch {
                return .error(code: .process, message: "\(error)")
            }
        case .send(let to, let message):
            guard let pid = Pid(parsing: to) ?? node.kernel.whereis(to) else {
                return .error(code: .process, message: "no process \(to)")
            }
            guard node.kernel.send(message, to: pid) else { return .error(code: .process, message: "no process \(to)") }
            return .ok(.pid(pid))
        case .purge(let module, let soft):
            do {
                if soft {
                    let dropped = try node.codeServer.softPurge(module)
                    return .ok(PurgeReply.soft(module: module, purged: dropped).term)
                }
                let result = try node.codeServer.purge(module)
                return .ok(PurgeReply(
                    module: module, purged: result.version, stopped: result.stopped.map(\.description),
                    stubborn: result.stubborn.map(\.description), cancelledCalls: result.cancelledCalls,
                    unendedCalls: result.unendedCalls, cancelledTasks: result.cancelledTasks, unendedTasks: result.unendedTasks).term)
            } catch {
                return .error(code: error.code, message: error.description)
            }
        case .delete(let module):
            do {
                let version = try node.codeServer.delete(module)
                node.logger.info("deleted \(module) v\(version)")
                return .ok(DeleteReply(module: module, old: version).term)
            } catch {
                return .error(code: error.code, message: error.description)
            }
        case .check(let files):
            do {
                try node.codeServer.check(try stagedPaths(files))
                return .ok(CheckReply(files: files).term)
            } catch let error as LoadError {
                return .error(code: error.code, message: error.description)
            } catch {
                return .error(code: .badRequest, message: "\(error)")
            }
        case .makePermanent(let modules):
            do {
                let made = try node.makePermanent(modules)
                return .ok(MakePermanentReply(versions: made).term)
            } catch {
                return .error(code: error.code, message: error.description)
            }
        case .rollback(let module):
            do {
                let r = try node.codeServer.rollback(module)
                node.logger.info("rolled \(module) back to v\(r.to)")
                let failures = migrateServers(of: module)
                return .ok(RollbackReply(module: module, from: r.from, to: r.to, codeChangeFailures: failures).term)
            } catch {
                return .error(code: error.code, message: error.description)
            }
        case .compact:
            preconditionFailure("compact is answered by handle, before serve")
        case .stage(let file, let size, let sha256):
            return try stage(file, size: size, sha256: sha256, on: connection, &exchange)
        case .load(let files, let purge, let force):
            let paths: [String]
            do { paths = try stagedPaths(files) } catch { return .error(code: .badRequest, message: "\(error)") }
            do {
                let results = try node.codeServer.load(paths, purge: purge, force: force)
                var answer: [ModuleLoad] = []
                for r in results {
                    node.logger.info("loaded \(r.module) v\(r.to)\(r.from.map { " (was v\($0))" } ?? "")")
                    let failures = migrateServers(of: r.module)
                    answer.append(ModuleLoad(
                        module: r.module, from: r.from, to: r.to, codeChangeFailures: failures,
                        stopped: r.stopped.map(\.description), stubborn: r.stubborn.map(\.description),
                        cancelledCalls: purge ? r.cancelledCalls : nil, unendedCalls: purge ? r.unendedCalls : nil,
                        cancelledTasks: purge ? r.cancelledTasks : nil, unendedTasks: purge ? r.unendedTasks : nil))
                }
                node.compactIfDue()
                return .ok(LoadReply(modules: answer).term)
            } catch {
                node.logger.warning("load refused: \(error)")
                return .error(code: error.code, message: error.description)
            }
        }
    }

    /// Moves the module's servers to its current version now, so that a
    /// deploy can report a failing codeChange rather than the next caller.
    private func migrateServers(of module: String) -> [CodeChangeFailure] {
        node.kernel.migrateServers(of: module).map { CodeChangeFailure(pid: $0.pid.description, reason: $0.reason) }
    }

    /// The staged paths of artifact names; refuses anything else.
    private func stagedPaths(_ files: [String]) throws(WireError) -> [String] {
        try files.map { (file) throws(WireError) in
            guard let name = ArtifactName(fileName: file) else {
                throw .badMessage(reason: "'\(file)' is not a module version file name")
            }
            return node.store.stagedPath(name)
        }
    }

    /// Receives an upload. A refusal is answered at once, and the chunks
    /// the client announced and may already be streaming are then dropped
    /// as they come, so that the client reads the refusal rather than a
    /// broken pipe (docs/PROTOCOL.md, "stage"). Throws when the connection
    /// cannot go on.
    private func stage(
        _ file: String, size: Int, sha256: String, on connection: Connection, _ exchange: inout Exchange
    ) throws(WireError) -> Response {
        guard let name = ArtifactName(fileName: file) else {
            exchange.discarding = min(size, Store.maxUpload)
            return .error(code: .badRequest, message: "'\(file)' is not a module version file name")
        }
        guard size <= Store.maxUpload else {
            exchange.discarding = Store.maxUpload
            return .error(code: .badUpload, message: "upload of \(size) bytes exceeds the limit of \(Store.maxUpload)")
        }
        var received = 0
        var interrupting: Frame?
        do {
            let path = try node.store.receive(name, size: size, sha256: sha256) { () throws(WireError) -> [UInt8] in
                let frame = try connection.receive()
                guard frame.type == .chunk else {
                    // A request cut the upload short: it is served after the refusal.
                    interrupting = frame
                    throw .unexpectedFrame(expected: "chunk", got: "\(frame.type)")
                }
                received += frame.payload.count
                return frame.payload
            }
            return .ok(StageReply(file: lastPathComponent(path)).term)
        } catch {
            if case .wire(let wire) = error, interrupting == nil { throw wire }
            node.logger.warning("upload of \(file) refused: \(error)")
            exchange.interrupting = interrupting
            if interrupting == nil { exchange.discarding = max(0, size - received) }
            return .error(code: .badUpload, message: error.description)
        }
    }
}

/// What a connection carries from one request to the next.
private struct Exchange {
    /// Bytes of chunks still to drop, announced by an upload that was refused.
    var discarding = 0
    /// A frame read in place of an upload's chunk, to serve next.
    var interrupting: Frame?
}

extension CallError {
    var code: ErrorCode {
        switch self {
        case .undefinedModule, .undefinedFunction: .undefined
        case .wrongArity, .badArgument: .badArgument
        case .raised: .raised
        case .notCallable: .badArgument
        }
    }
}
