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
    /// Connections still in their handshake, oldest first.
    private let handshaking = Mutex<[ObjectIdentifier: (socket: Socket, since: Double)]>([:])
    /// Authenticated connections beyond this are closed at once, so a flood
    /// cannot exhaust the node's threads; the node answers the ones it has.
    public static let maxConnections = 64
    /// Connections in their handshake beyond this evict the oldest one: a
    /// stranger holding silent connections open cannot lock a client out.
    public static let maxHandshaking = 32
    /// How long a client has to finish the handshake.
    public static let handshakeTimeoutMilliseconds = 2_000
    /// How long an authenticated connection may stay silent before it is closed.
    public static let idleTimeoutMilliseconds = 300_000

    init(node: Node, cookie: [UInt8]) {
        self.node = node
        self.cookie = cookie
    }

    /// Accepts connections until the listener closes.
    func serve(_ listener: Listener) {
        while true {
            let socket: Socket
            do {
                socket = try listener.accept()
            } catch {
                if error.errno == .badFileDescriptor || error.errno == .invalidArgument { return }
                node.logger.warning("accept failed: \(error)")
                continue
            }
            admitHandshake(socket)
            startThread { [self] in handle(socket) }
        }
    }

    /// Counts a connection in its handshake; when too many are, the oldest
    /// is shut down (its thread then fails its read and ends).
    private func admitHandshake(_ socket: Socket) {
        let evicted: Socket? = handshaking.withLock { pending in
            var oldest: (key: ObjectIdentifier, value: (socket: Socket, since: Double))?
            if pending.count >= Self.maxHandshaking {
                oldest = pending.min { $0.value.since < $1.value.since }
                if let oldest { pending[oldest.key] = nil }
            }
            pending[ObjectIdentifier(socket)] = (socket, now())
            return oldest?.value.socket
        }
        evicted?.shutdown()
    }

    private func handle(_ socket: Socket) {
        let connection: Connection
        do {
            defer { _ = handshaking.withLock { $0.removeValue(forKey: ObjectIdentifier(socket)) } }
            try socket.setReadTimeout(milliseconds: Self.handshakeTimeoutMilliseconds)
            try socket.setWriteTimeout(milliseconds: Self.handshakeTimeoutMilliseconds)
            connection = try Connection.accept(socket, cookie: cookie, nodeName: node.name)
            try socket.setReadTimeout(milliseconds: Self.idleTimeoutMilliseconds)
        } catch {
            // A wrong cookie waits a little before the close, so that guessing is slow.
            if case .authenticationFailed = error as? WireError { usleep(200_000) }
            node.logger.notice("connection refused: \(error)")
            socket.close()
            return
        }
        guard connections.add(1, ordering: .relaxed).newValue <= Self.maxConnections else {
            connections.subtract(1, ordering: .relaxed)
            node.logger.warning("connection closed: \(Self.maxConnections) connections already open")
            connection.close()
            return
        }
        defer {
            connections.subtract(1, ordering: .relaxed)
            connection.close()
        }
        while true {
            let frame: Frame
            do {
                frame = try connection.receive()
            } catch {
                if case .closed = error {} else { node.logger.notice("connection dropped: \(error)") }
                return
            }
            let response: Response
            do {
                guard frame.type == .request else {
                    throw WireError.unexpectedFrame(expected: "request", got: "\(frame.type)")
                }
                let request = try Request(term: TermCodec.decode(frame.payload))
                response = serve(request, on: connection)
                try connection.send(Frame(.response, TermCodec.encode(response.term)))
                if case .stop = request, case .ok = response {
                    node.shutdown(reason: "stop requested")
                }
            } catch {
                node.logger.notice("protocol error, closing connection: \(error)")
                return
            }
        }
    }

    private func serve(_ request: Request, on connection: Connection) -> Response {
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
                    stubborn: result.stubborn.map(\.description)).term)
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
        case .stage(let file, let size, let sha256):
            return stage(file, size: size, sha256: sha256, on: connection)
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
                        stopped: r.stopped.map(\.description), stubborn: r.stubborn.map(\.description)))
                }
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

    private func stage(_ file: String, size: Int, sha256: String, on connection: Connection) -> Response {
        guard let name = ArtifactName(fileName: file) else {
            return .error(code: .badRequest, message: "'\(file)' is not a module version file name")
        }
        guard size <= Store.maxUpload else {
            return .error(code: .badUpload, message: "upload of \(size) bytes exceeds the limit of \(Store.maxUpload)")
        }
        do {
            let path = try node.store.receive(name, size: size, sha256: sha256) { () throws(WireError) -> [UInt8] in
                let frame = try connection.receive()
                guard frame.type == .chunk else { throw .unexpectedFrame(expected: "chunk", got: "\(frame.type)") }
                return frame.payload
            }
            return .ok(StageReply(file: lastPathComponent(path)).term)
        } catch {
            node.logger.warning("upload of \(file) refused: \(error)")
            return .error(code: .badUpload, message: error.description)
        }
    }
}

extension CallError {
    var code: ErrorCode {
        switch self {
        case .undefinedModule, .undefinedFunction: .undefined
        case .wrongArity, .badArgument: .badArgument
        case .raised: .raised
        }
    }
}
