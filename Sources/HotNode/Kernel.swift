#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Logging

/// The node's side of `NodeRuntime`: external calls, processes, servers.
final class Kernel: NodeRuntime, @unchecked Sendable {
    // @unchecked: `logger` is a value set once; everything else is Sendable.
    let codeServer: CodeServer
    let processes: ProcessTable
    let logger: Logger

    init(codeServer: CodeServer, processes: ProcessTable, logger: Logger) {
        self.codeServer = codeServer
        self.processes = processes
        self.logger = logger
        self.threadStarter = Locked(HotPlatform.startThread)
    }

    /// How a process's thread is started: `HotPlatform.startThread`. A
    /// test puts one that fails as `pthread_create` does in a container
    /// short of threads, to reach that path without such a container.
    typealias ThreadStarter = @Sendable (@escaping @Sendable () -> Void) throws -> Void

    private let threadStarter: Locked<ThreadStarter>

    /// Replaces how process threads start, for a test; returns the one it replaced.
    @discardableResult
    func replaceThreadStarter(_ starter: @escaping ThreadStarter) -> ThreadStarter {
        threadStarter.withLock { current in
            let previous = current
            current = starter
            return previous
        }
    }

    // MARK: the calling process

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private func currentProcess() -> NodeProcess? {
        guard let raw = pthread_getspecific(Self.currentKey) else { return nil }
        return Unmanaged<NodeProcess>.fromOpaque(raw).takeUnretainedValue()
    }

    private func enter(_ process: NodeProcess) {
        // The thread's own reference keeps the process alive while it runs.
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(process).toOpaque())
    }

    // MARK: NodeRuntime

    func call(_ module: String, _ function: String, _ args: [Term]) throws -> Term {
        try codeServer.exports.call(module, function, args)
    }

    func selfPid() -> Pid? { currentProcess()?.pid }

    func whereis(_ name: String) -> Pid? { processes.whereis(name) }

    func send(_ message: Term, to pid: Pid) -> Bool {
        processes.process(pid)?.mailbox.post(.message(message)) ?? false
    }

    func receive(timeout: Duration?) throws -> Term? {
        guard let process = currentProcess() else { throw ProcessError.notInProcess }
        // A plain process reads messages; server envelopes never reach it.
        while true {
            switch try process.mailbox.take(timeout: timeout) {
            case nil: return nil
            case .message(let term)?, .cast(let term)?: return term
            case .call(_, let reply)?, .codeChange(let reply)?:
                reply.put(.failure(ProcessError.serverEnded("not a server")))
            case .handOff(let handOff)?:
                handOff.state.put(.failure(ProcessError.serverEnded("not a server")))
            }
        }
    }

    func checkCancellation() throws {
        if currentProcess()?.mailbox.isCancelled == true { throw ProcessError.cancelled }
    }

    func serverCall(_ pid: Pid, _ request: Term, timeout: Duration) throws -> Term {
        guard let process = processes.process(pid) else { throw ProcessError.noProcess(pid.description) }
        let reply = Reply()
        guard process.mailbox.post(.call(request, reply)) else { throw ProcessError.noProcess(pid.description) }
        guard let result = reply.wait(for: timeout) else { throw ProcessError.timeout(after: timeout) }
        return try result.get()
    }

    func serverCast(_ pid: Pid, _ message: Term) -> Bool {
        processes.process(pid)?.mailbox.post(.cast(message)) ?? false
    }

    /// A tracked task belongs to the version its call site was compiled
    /// into (`CallSite`), whichever thread or task makes the call: an
    /// on-load hook, an export, a process, or another task of the module.
    func startTask(
        _ label: String, lifetime: TaskLifetime, site: CallSite, _ body: @escaping @Sendable () async throws -> Void
    ) throws -> UInt64 {
        guard let version = site.version else { throw ProcessError.notInModule(site.fileID) }
        let id = try codeServer.tasks.start(label, module: site.module, version: version, lifetime: lifetime, site: site, body)
        logger.info("task #\(id) \(label) started by \(site.module) v\(version) at \(site)")
        return id
    }

    func cancelTask(_ id: UInt64) { codeServer.tasks.cancel([id]) }

    func withKept<R>(_ module: String, _ key: String, _ body: (inout Term?) throws -> R) throws -> R {
        try codeServer.kept.withValue(module, key, body)
    }

    /// Registers a process in the current version of `module`. The version is
    /// read again once the process is in the table: had two loads passed in
    /// between, the process would be pinned to code no purge could see.
    private func pinCurrent(_ module: String, name: String?, kind: NodeProcess.Kind) throws -> (NodeProcess, ModuleVersion) {
        while true {
            guard let version = codeServer.exports.currentLoading(module) else { throw CallError.undefinedModule(module) }
            let process = try processes.register(module: module, version: version, name: name, kind: kind)
            if codeServer.isLive(version) { return (process, version) }
            processes.remove(process.pid)
        }
    }

    func spawn(_ module: String, _ function: String, _ args: [Term], name: String?) throws -> Pid {
        guard let version = codeServer.exports.currentLoading(module) else { throw CallError.undefinedModule(module) }
        guard let export = version.exports[function]?.export else { throw CallError.undefinedFunction(module: module, function: function) }
        guard export.arity == args.count else {
            throw CallError.wrongArity(function: "\(module):\(function)", expected: export.arity, got: args.count)
        }
        let (process, pinned) = try pinCurrent(module, name: name, kind: .plain(function: function))
        try startProcessThread(process) { [self] in runProcess(process, pinned, function, args) }
        return process.pid
    }

    /// Starts `process`'s thread; without one to be had (the container's
    /// thread limit, below the node's own), the process leaves the table
    /// and the caller gets `systemLimit`, not a node that traps.
    private func startProcessThread(_ process: NodeProcess, _ body: @escaping @Sendable () -> Void) throws(ProcessError) {
        let start = threadStarter.withLock { $0 }
        do {
            try start(body)
        } catch {
            process.mailbox.close(reason: "no thread")
            processes.remove(process.pid)
            throw .systemLimit("no thread for process \(process.pid) (\(error)); the system allows this node no more threads")
        }
    }

    /// How long a server has to move its state to a new version when told to.
    static let migrationTimeout: Duration = .seconds(5)

    /// How long a server's `start` may run before `Servers.start` gives up on it.
    static let serverStartTimeout: Duration = .seconds(10)

    /// Waits for a server's first state; past `timeout` the server is
    /// taken out of the table and cancelled, so that a `start` that returns
    /// later finds its process gone and the server never serves
    /// (a gen_server's start_link that timed out kills its child).
    private func awaitStart(_ process: NodeProcess, _ started: Reply, timeout: Duration) throws {
        guard let result = started.wait(for: timeout) else {
            process.mailbox.cancel()
            processes.remove(process.pid)
            throw ProcessError.timeout(after: timeout)
        }
        _ = try result.get()
    }

    /// A plain process: runs its function in its version until it returns,
    /// throws, is cancelled, or switches code into the current version.
    private func runProcess(_ process: NodeProcess, _ start: ModuleVersion, _ function: String, _ args: [Term]) {
        enter(process)
        var version = start
        var function = function
        var args = args
        defer {
            process.mailbox.close(reason: "process ended")
            processes.remove(process.pid)
        }
        while true {
            do {
                _ = try version.invoke(function, args)
                return
            } catch let codeSwitch as CodeSwitch {
                guard let current = codeServer.exports.current(process.module) else {
                    logger.warning("process \(process.pid) cannot switch: \(process.module) has no current version")
                    return
                }
                processes.repin(process.pid, to: current)
                version = current
                function = codeSwitch.function
                args = codeSwitch.args
            } catch ProcessError.cancelled {
                logger.info("process \(process.pid) (\(process.module) v\(version.version)) stopped")
                return
            } catch {
                // A process that throws ends alone: nothing else in the node is touched.
                logger.warning("process \(process.pid) (\(process.module) v\(version.version)) ended: \(error)")
                return
            }
        }
    }

    func startServer(_ module: String, _ server: String, _ args: [Term], name: String?) throws -> Pid {
        try startServer(module, server, args, name: name, timeout: Self.serverStartTimeout)
    }

    func startServer(_ module: String, _ server: String, _ args: [Term], name: String?, timeout: Duration) throws -> Pid {
        guard let version = codeServer.exports.currentLoading(module) else { throw CallError.undefinedModule(module) }
        guard version.server(server) != nil else { throw CallError.undefinedFunction(module: module, function: server) }
        let (process, pinned) = try pinCurrent(module, name: name, kind: .server(server))
        // The first state is made in the server's own thread, but the caller
        // learns of a failing `start` at once, as gen_server:start_link does.
        let started = Reply()
        try startProcessThread(process) { [self] in runServer(process, pinned, server, { spec in try spec.start(args) }, started) }
        try awaitStart(process, started, timeout: timeout)
        return process.pid
    }

    /// A server: the loop lives here, each message goes to the current
    /// version, and the state moves first when the version changed. Its
    /// first state comes from `first`: the server's `start`, or a state
    /// carried across a compaction.
    private func runServer(
        _ process: NodeProcess, _ start: ModuleVersion, _ name: String, _ first: (ServerSpec) throws -> ServerState, _ started: Reply
    ) {
        enter(process)
        var version = start
        defer {
            process.mailbox.close(reason: "server \(process.pid) ended")
            processes.remove(process.pid)
        }
        var state: ServerState
        do {
            guard let spec = version.server(name) else { throw CallError.undefinedFunction(module: process.module, function: name) }
            state = try first(spec)
            started.put(.success(.pid(process.pid)))
        } catch {
            started.put(.failure(error))
            return
        }
        while true {
            let envelope: Envelope?
            do { envelope = try process.mailbox.take(timeout: nil) } catch {
                logger.info("server \(process.pid) (\(process.module) v\(version.version)) stopped")
                return
            }
            guard let envelope else { continue }
            if case .codeChange(let reply) = envelope {
                reply.put(migrate(process, name, &version, &state).map { .int($0) })
                continue
            }
            if case .handOff(let handOff) = envelope {
                handOff.state.put(Result { try carry(process, name, version, state) })
                // Until the compaction fails; one that succeeds ends the process.
                if handOff.resume.wait(for: ServerHandOff.resumeTimeout) == nil {
                    logger.warning("server \(process.pid): no word from the compaction within \(ServerHandOff.resumeTimeout.shortDescription); going on")
                }
                continue
            }
            // Erlang's rule: a message goes to the current version; the state
            // moves first. A failed move keeps the old version and its state.
            if case .failure(let error) = migrate(process, name, &version, &state) {
                logger.warning("server \(process.pid): code change failed, staying on v\(version.version): \(error)")
            }
            guard let spec = version.server(name) else { continue }
            do {
                switch envelope {
                case .call(let request, let reply):
                    reply.put(Result { try spec.handleCall(request, state) })
                case .cast(let message): try spec.handleCast(message, state)
                case .message(let message): try spec.handleInfo(message, state)
                case .codeChange, .handOff: break
                }
            } catch {
                logger.warning("server \(process.pid) (\(process.module) v\(version.version)): \(error)")
            }
        }
    }

    /// Moves a server's state to the module's current version if it differs;
    /// returns the version it runs afterwards.
    private func migrate(_ process: NodeProcess, _ name: String, _ version: inout ModuleVersion, _ state: inout ServerState) -> Result<Int, any Error> {
        guard let current = codeServer.exports.current(process.module), current !== version else {
            return .success(version.version)
        }
        guard let from = version.server(name), let to = current.server(name) else {
            return .failure(CallError.undefinedFunction(module: process.module, function: name))
        }
        do {
            let term = try from.encode(state)
            let moved = try to.codeChange(version.version, term)
            state = moved
            version = current
            processes.repin(process.pid, to: current)
            logger.info("server \(process.pid) moved to \(process.module) v\(current.version)")
            return .success(current.version)
        } catch {
            return .failure(error)
        }
    }

    /// A server's state as its version encodes it, for the same version in
    /// the compacted process to decode; the decode is tried here first, so a
    /// state that would not come back stops the compaction instead of the server.
    private func carry(_ process: NodeProcess, _ name: String, _ version: ModuleVersion, _ state: ServerState) throws -> Term {
        guard codeServer.exports.current(process.module) === version else {
            throw CompactionRefusal.serverInOldCode(pid: process.pid, module: process.module, version: version.version)
        }
        guard let spec = version.server(name) else { throw CallError.undefinedFunction(module: process.module, function: name) }
        let term = try spec.encode(state)
        _ = try spec.decode(term)
        return term
    }

    /// Starts a server carried across a compaction: the pid and registered
    /// name it had, the state its version encoded decoded by the same
    /// version (`ServerSpec.decode`), now current here.
    func restoreServer(_ carried: CarriedServer) throws {
        guard let version = codeServer.exports.current(carried.module), version.version == carried.version else {
            throw CompactionRefusal.serverLost(pid: Pid(carried.pid), reason: "\(carried.module) v\(carried.version) is not current after the boot")
        }
        let process = try processes.register(
            module: carried.module, version: version, name: carried.name, kind: .server(carried.server), pid: Pid(carried.pid))
        let started = Reply()
        try startProcessThread(process) { [self] in
            runServer(process, version, carried.server, { spec in try spec.decode(carried.state) }, started)
        }
        try awaitStart(process, started, timeout: Self.serverStartTimeout)
    }

    /// Asks every server for its state, for a compaction; each one then
    /// waits, handling nothing, until `resume` or the end of the process.
    /// Throws the first server that cannot hand over; those that did are
    /// resumed by the caller through the hand-offs it is given.
    func handOffServers(timeout: Duration, into handOffs: inout [ServerHandOff]) throws(CompactionRefusal) -> [CarriedServer] {
        var carried: [CarriedServer] = []
        for entry in processes.all() {
            guard case .server(let server) = entry.process.kind else { continue }
            let handOff = ServerHandOff()
            guard entry.process.mailbox.post(.handOff(handOff)) else { continue }
            handOffs.append(handOff)
            switch handOff.state.wait(for: timeout) {
            case .success(let term)?:
                // The version the server answered from: read after the answer, as
                // only the server's own thread moves it and it now waits.
                let version = processes.version(of: entry.process.pid)?.version ?? entry.version.version
                carried.append(CarriedServer(
                    pid: entry.process.pid.id, name: entry.process.name, module: entry.process.module, server: server,
                    version: version, state: term))
            case .failure(let error as CompactionRefusal)?: throw error
            case .failure(ProcessError.serverEnded)?: continue
            case .failure(let error)?: throw .serverState(pid: entry.process.pid, reason: "\(error)")
            case nil: throw .serverState(pid: entry.process.pid, reason: "no answer within \(timeout.shortDescription)")
            }
        }
        return carried
    }

    /// Moves every server of `module` to its current version now; returns the
    /// ones whose `codeChange` failed, with the reason.
    func migrateServers(of module: String, timeout: Duration = Kernel.migrationTimeout) -> [(pid: Pid, reason: String)] {
        var failures: [(Pid, String)] = []
        for entry in processes.all() where entry.process.module == module {
            guard case .server = entry.process.kind else { continue }
            let reply = Reply()
            guard entry.process.mailbox.post(.codeChange(reply)) else { continue }
            switch reply.wait(for: timeout) {
            case .success?: break
            case .failure(let error)?: failures.append((entry.process.pid, "\(error)"))
            case nil: failures.append((entry.process.pid, "no answer within \(timeout.shortDescription)"))
            }
        }
        return failures
    }
}
