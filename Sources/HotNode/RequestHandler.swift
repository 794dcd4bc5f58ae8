import Hot
import HotPlatform
import HotWire
import Logging

/// One thing a request asks of the node, and the one document it answers
/// with: the operation's type fixes its reply's, so a request cannot be
/// answered with another request's document (docs/PROTOCOL.md lists each
/// op's result; `Replies.swift` holds the types both sides share).
protocol NodeOperation {
    associatedtype Reply: ReplyDocument
    /// Does the operation; a refusal names its code and says why.
    func perform(on node: Node) throws(OperationFailure) -> Reply
}

/// An operation's refusal, as the wire carries it.
struct OperationFailure: Error {
    let code: ErrorCode
    let message: String

    init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: LoadError) { self.init(error.code, error.description) }
}

/// What a connection lends the two operations that need more than the
/// node: `stage` reads its chunks from it, `compact` answers through it
/// just before the exec, and both leave word of how the connection fares.
final class ConnectionSide {
    let connection: Connection
    /// The connection's identity in the server's tables, which a compaction
    /// it asked for leaves open.
    let id: ObjectIdentifier
    /// A frame read in place of an upload's chunk, to serve next.
    var interrupting: Frame?
    /// Why the stream broke under an upload: the connection cannot go on.
    var broken: WireError?
    /// Whether a compaction's reply went out (its exec then failed, and the
    /// connection closes with no second answer).
    var answered = false

    init(_ connection: Connection, id: ObjectIdentifier) {
        self.connection = connection
        self.id = id
    }
}

/// Maps each request to its operation, and the operation's reply or
/// refusal to the response.
struct RequestHandler {
    let node: Node

    /// The response to `request`, or nil when the connection is to close
    /// without one: an upload's stream broke, or a compaction answered already.
    func response(to request: Request, on side: ConnectionSide) -> Response? {
        let response: Response
        switch request {
        case .ping: response = answer(Ping(), request)
        case .status: response = answer(Status(), request)
        case .stop: response = answer(Stop(), request)
        case .call(let module, let function, let args): response = answer(Call(module: module, function: function, args: args), request)
        case .spawn(let module, let function, let args, let name):
            response = answer(Spawn(module: module, function: function, args: args, name: name), request)
        case .send(let to, let message): response = answer(Send(to: to, message: message), request)
        case .purge(let module, let soft): response = answer(Purge(module: module, soft: soft), request)
        case .delete(let module): response = answer(Delete(module: module), request)
        case .check(let files): response = answer(Check(files: files), request)
        case .makePermanent(let modules): response = answer(MakePermanent(modules: modules), request)
        case .rollback(let module): response = answer(Rollback(module: module), request)
        case .load(let files, let purge, let force): response = answer(Load(files: files, purge: purge, force: force), request)
        case .stage(let file, let size, let sha256): response = answer(Stage(file: file, size: size, sha256: sha256, side: side), request)
        case .compact(let purge): response = answer(Compact(purge: purge, side: side), request)
        }
        return side.broken == nil && !side.answered ? response : nil
    }

    private func answer<Operation: NodeOperation>(_ operation: Operation, _ request: Request) -> Response {
        // The reply document names the op it answers: an operation mapped
        // to another op's request is a bug in the switch above.
        assert(Operation.Reply.request == request.op, "\(request.op) is answered with a \(Operation.Reply.request) reply")
        do {
            return .ok(try operation.perform(on: node).term)
        } catch {
            return .error(code: error.code, message: error.message)
        }
    }
}

// MARK: - The operations

// Nested, so that their short names stay the handler's.
extension RequestHandler {
    struct Ping: NodeOperation {
        func perform(on node: Node) -> PingReply { PingReply(value: node.name) }
    }

    struct Status: NodeOperation {
        func perform(on node: Node) -> StatusReply { node.statusDocument() }
    }

    /// Answered before the node stops: `ControlConnection` stops it once the reply is sent.
    struct Stop: NodeOperation {
        func perform(on node: Node) -> StopReply { StopReply(value: node.name) }
    }

    struct Call: NodeOperation {
        let module: String
        let function: String
        let args: [Term]

        func perform(on node: Node) throws(OperationFailure) -> CallReply {
            do {
                // One argument needs no array on the node's side either.
                let exports = node.codeServer.exports
                return CallReply(value: try args.count == 1 ? exports.call(module, function, argument: args[0]) : exports.call(module, function, args))
            } catch {
                throw OperationFailure(error.code, error.description)
            }
        }
    }

    struct Spawn: NodeOperation {
        let module: String
        let function: String
        let args: [Term]
        let name: String?

        func perform(on node: Node) throws(OperationFailure) -> SpawnReply {
            do {
                let kernel = node.kernel
                let isServer = node.codeServer.exports.currentLoading(module)?.server(function) != nil
                return SpawnReply(value: try isServer
                    ? kernel.startServer(module, function, args, name: name)
                    : kernel.spawn(module, function, args, name: name))
            } catch let error as CallError {
                throw OperationFailure(error.code, error.description)
            } catch {
                throw OperationFailure(.process, "\(error)")
            }
        }
    }

    struct Send: NodeOperation {
        let to: String
        let message: Term

        func perform(on node: Node) throws(OperationFailure) -> SendReply {
            guard let pid = Pid(parsing: to) ?? node.kernel.whereis(to), node.kernel.send(message, to: pid) else {
                throw OperationFailure(.process, "no process \(to)")
            }
            return SendReply(value: pid)
        }
    }

    struct Purge: NodeOperation {
        let module: String
        let soft: Bool

        func perform(on node: Node) throws(OperationFailure) -> PurgeReply {
            do {
                if soft { return PurgeReply.soft(module: module, purged: try node.codeServer.softPurge(module)) }
                let result = try node.codeServer.purge(module)
                return PurgeReply(module: module, purged: result.version, work: result.work)
            } catch {
                throw OperationFailure(error)
            }
        }
    }

    struct Delete: NodeOperation {
        let module: String

        func perform(on node: Node) throws(OperationFailure) -> DeleteReply {
            do {
                let version = try node.codeServer.delete(module)
                node.logger.info("deleted \(module) v\(version)")
                return DeleteReply(module: module, old: version)
            } catch {
                throw OperationFailure(error)
            }
        }
    }

    struct Check: NodeOperation {
        let files: [String]

        func perform(on node: Node) throws(OperationFailure) -> CheckReply {
            let paths = try stagedPaths(files, in: node.store)
            do {
                try node.codeServer.check(paths)
                return CheckReply(files: files)
            } catch {
                throw OperationFailure(error)
            }
        }
    }

    struct MakePermanent: NodeOperation {
        let modules: [String]

        func perform(on node: Node) throws(OperationFailure) -> MakePermanentReply {
            do {
                return MakePermanentReply(versions: try node.makePermanent(modules))
            } catch {
                throw OperationFailure(error)
            }
        }
    }

    struct Rollback: NodeOperation {
        let module: String

        func perform(on node: Node) throws(OperationFailure) -> RollbackReply {
            do {
                let r = try node.codeServer.rollback(module)
                node.logger.info("rolled \(module) back to v\(r.to)")
                return RollbackReply(module: module, from: r.from, to: r.to, codeChangeFailures: migrateServers(of: module, on: node))
            } catch {
                throw OperationFailure(error)
            }
        }
    }

    /// Receives an upload. A refusal is answered at once, and the chunks
    /// the client may already be streaming are then dropped as they come
    /// (`ControlConnection.run`), so that the client reads the refusal
    /// rather than a broken pipe (docs/PROTOCOL.md, "stage").
    struct Stage: NodeOperation {
        let file: String
        let size: Int
        let sha256: String
        let side: ConnectionSide

        func perform(on node: Node) throws(OperationFailure) -> StageReply {
            guard let name = ArtifactName(fileName: file) else {
                throw OperationFailure(.badRequest, "'\(file)' is not a module version file name")
            }
            guard size <= Store.maxUpload else {
                throw OperationFailure(.badUpload, "upload of \(size) bytes exceeds the limit of \(Store.maxUpload)")
            }
            let side = side
            do throws(UploadError) {
                let path = try node.store.receive(name, size: size, sha256: sha256) { () throws(WireError) -> [UInt8] in
                    let frame: Frame
                    do throws(WireError) { frame = try side.connection.receive() } catch {
                        side.broken = error
                        throw error
                    }
                    guard frame.type == .chunk else {
                        // A request cut the upload short: it is served after the refusal.
                        side.interrupting = frame
                        throw .unexpectedFrame(expected: "chunk", got: "\(frame.type)")
                    }
                    return frame.payload
                }
                return StageReply(file: lastPathComponent(path))
            } catch {
                if side.broken == nil { node.logger.warning("upload of \(file) refused: \(error)") }
                throw OperationFailure(.badUpload, error.description)
            }
        }
    }

    /// Compacts the node: answered by `Node.compact` itself, through the
    /// connection, just before the exec, so a success never returns here.
    /// A refusal is thrown; an exec that failed after the answer went out
    /// leaves `side.answered` set, and the connection closes.
    struct Compact: NodeOperation {
        let purge: Bool
        let side: ConnectionSide

        func perform(on node: Node) throws(OperationFailure) -> CompactReply {
            let side = side
            do {
                try node.compact(trigger: "request", purge: purge, requester: side.id) { reply in
                    side.answered = (try? side.connection.send(Frame(.response, Response.ok(reply.term).boundedPayload()))) != nil
                    return side.answered
                }
            } catch {
                node.logger.warning("\(error)")
                throw OperationFailure(error.code, error.description)
            }
        }
    }

    struct Load: NodeOperation {
        let files: [String]
        let purge: Bool
        let force: Bool

        func perform(on node: Node) throws(OperationFailure) -> LoadReply {
            let paths = try stagedPaths(files, in: node.store)
            // Two versions of one module in one load would be applied in turn,
            // the first replaced at once by the second: refused, so that a
            // load's reply says what each module went from and to.
            var seen: [String: String] = [:]
            for file in files {
                guard let name = ArtifactName(fileName: file) else { continue }
                if let other = seen.updateValue(file, forKey: name.module) {
                    throw OperationFailure(
                        .badRequest, "load names module \(name.module) twice (\(other) and \(file)); load one version of a module at a time")
                }
            }
            do {
                let results = try node.codeServer.load(paths, purge: purge, force: force)
                var answer: [ModuleLoad] = []
                for r in results {
                    node.logger.info("loaded \(r.module) v\(r.to)\(r.from.map { " (was v\($0))" } ?? "")")
                    answer.append(ModuleLoad(
                        module: r.module, from: r.from, to: r.to, codeChangeFailures: migrateServers(of: r.module, on: node), work: r.work))
                }
                node.compactIfDue()
                return LoadReply(modules: answer)
            } catch {
                node.logger.warning("load refused: \(error)")
                throw OperationFailure(error)
            }
        }
    }
}

/// Moves the module's servers to its current version now, so that a deploy
/// can report a failing codeChange rather than the next caller.
private func migrateServers(of module: String, on node: Node) -> [CodeChangeFailure] {
    node.kernel.migrateServers(of: module).map { CodeChangeFailure(pid: $0.pid.description, reason: $0.reason) }
}

/// The staged paths of artifact names; refuses anything else.
private func stagedPaths(_ files: [String], in store: Store) throws(OperationFailure) -> [String] {
    try files.map { (file) throws(OperationFailure) in
        guard let name = ArtifactName(fileName: file) else {
            throw OperationFailure(.badRequest, "'\(file)' is not a module version file name")
        }
        return store.stagedPath(name)
    }
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
