#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject
import HotWire
import Logging
import Synchronization

/// A running node: its code server, its store, its control listeners.
public final class Node: Sendable {
    /// How often the node publishes its metrics: gauges a person or a
    /// scraper reads, for whom a second is fresh.
    static let metricsInterval: Duration = .seconds(1)
    /// The node's name, announced in every handshake.
    public let name: String
    /// The owner of the module table.
    public let codeServer: CodeServer
    /// The state folder.
    public let store: Store
    /// Where `interactive` boot finds built versions: `<dir>/<module>/<module>.vN-KEY.so`.
    public let codePath: String?
    /// Interactive: a call to a module not loaded loads its newest built
    /// version. Embedded: only what was loaded at boot.
    public let mode: Mode
    let logger: Logger
    let processes: ProcessTable
    let kernel: Kernel
    /// The watch on this node's supervisor; nil when nothing supervises it.
    let supervision: SupervisorWatch?
    let servers = Locked<[(listener: Listener, server: ControlServer, configured: NodeAddress)]>([])
    /// Compaction: whether this process may re-execute itself, what it
    /// inherited from the process before it, and the record status shows.
    let compaction = Locked(CompactionState())
    /// The actions `stop` runs, and whether it has taken them already.
    private let onShutdown = Locked((actions: [@Sendable () -> Void](), taken: false))
    /// Set by the first `stop`; later calls only wait for it.
    private let stopping = Atomic<Bool>(false)
    /// Open once `stop` has closed everything.
    private let stoppedLatch = Latch()

    /// Erlang's two code loading modes (`NodeMode`, which hotnode's flags name).
    public typealias Mode = NodeMode

    /// A node; `trialExecutable` runs each new object's trial load (told by
    /// `HOT_TRIAL_LOAD`) and defaults to this process's own executable; a
    /// trial still running after `trialTimeout` is killed and its
    /// object refused. From `boot` to `stop` one trial child waits, started
    /// ahead of time, unless `HOT_TRIAL_SPARE=0`.
    public convenience init(name: String, store: Store, codePath: String?, mode: Mode = .interactive, sticky: Set<String> = [],
                            trialExecutable: String? = realPath("/proc/self/exe"),
                            trialTimeout: Duration = TrialLoad.defaultTimeout, logger: Logger) {
        self.init(
            name: name, store: store, codePath: codePath, mode: mode, sticky: sticky,
            loader: Loader(trialExecutable: trialExecutable, trialTimeout: trialTimeout, logger: logger), logger: logger)
    }

    /// A node whose code comes from `loader`: `dlopen` in the real node, or
    /// modules made in Swift by a test.
    init(name: String, store: Store, codePath: String?, mode: Mode = .interactive, sticky: Set<String> = [],
         loader: any ModuleLoader, purgeTimeout: Duration = CodeServer.purgeTimeout, callsTimeout: Duration = CodeServer.callsTimeout,
         metrics: NodeMetrics = NodeMetrics(), limits: NodeLimits = NodeLimits(), logger: Logger) {
        self.name = name
        self.processes = ProcessTable(limit: limits.processes)
        self.store = store
        self.codePath = codePath
        self.mode = mode
        self.codeServer = CodeServer(
            sticky: sticky, processes: processes, tasks: TaskTable(logger: logger, limit: limits.tasks),
            kept: KeptStore(limit: limits.keptKeys), loader: loader, purgeTimeout: purgeTimeout, callsTimeout: callsTimeout,
            journal: LoadJournal(stateFolder: store.root), metrics: metrics)
        self.logger = logger
        codeServer.exports.logger = logger
        self.kernel = Kernel(codeServer: codeServer, processes: processes, logger: logger)
        self.supervision = SupervisorWatch.start(logger: logger)
        Runtime.install(kernel)
        do { try codeServer.metrics.report(codeServer, every: Self.metricsInterval) } catch {
            logger.warning("no thread to publish the node's metrics: \(error)")
        }
        if mode == .interactive, codePath != nil {
            codeServer.exports.onMiss = { [weak self] module in self?.loadOnDemand(module) ?? false }
        }
    }

    /// Interactive mode: loads the newest built version of a module that a
    /// call named but no version serves. A deleted module is not revived: it
    /// stays undefined until an explicit load, as Erlang's `code:delete` wants.
    private func loadOnDemand(_ module: String) -> Bool {
        if codeServer.isLoadingOnThisThread {
            // An entry or on-load hook calling a module not loaded yet: the
            // load lock is this thread's already (docs/ARCHITECTURE.md,
            // "Lock order"), so the call fails as undefined instead.
            logger.warning("not loading \(module) on demand: called from a module's entry or on-load hook, inside another load")
            return false
        }
        guard HotSDK.isValidModuleName(module), codeServer.versions(module).old == nil,
            let path = newestBuilt(module)
        else { return false }
        do {
            _ = try codeServer.load([path])
            logger.info("loaded \(module) on demand")
            return true
        } catch {
            logger.warning("could not load \(module) on demand: \(error)")
            return false
        }
    }

    /// The object a build folder names current for `module` (its `current`
    /// link), or else its highest version.
    func newestBuilt(_ module: String) -> String? {
        guard let codePath else { return nil }
        let code = CodePath(codePath)
        let folder = code.moduleFolder(module)
        if let target = realPath(code.currentLink(module: module)), ArtifactName(fileName: lastPathComponent(target)) != nil { return target }
        let newest = listDirectory(folder)
            .compactMap { ArtifactName(fileName: $0) }
            .filter { $0.module == module }
            .max { $0.version < $1.version }
        return newest.map { code.builtPath(module: module, file: $0.fileName) }
    }

    /// Boots the permanent set: the versions last made permanent, else the
    /// newest built version of every module under the code path (which then
    /// becomes the permanent set), and the built-in version of every module
    /// the host links (docs/ARCHITECTURE.md, "Built-in versions"). For each
    /// module the newest of those that fits this build of the host boots: a
    /// version built for another build is skipped with one line naming it,
    /// and the built-in version boots instead. A module that fails to load is
    /// logged and skipped: one bad module must not keep the others from
    /// booting. First, a load the node died in last time is recorded as refused.
    public func boot() {
        // At boot, not when the node is made: a process that makes a node
        // and never runs it (a test) must not start children of itself.
        codeServer.loader.prepareTrials()
        recoverDeathInLoad()
        defer { compaction.withLock { $0.versionsAtBoot = codeServer.mappedVersions } }
        if bootCompacted() { return }
        let permanentSet = PermanentSet(stateFolder: store.root)
        var boot = permanentSet.read() ?? [:]
        let recorded = !boot.isEmpty
        if let codePath {
            for module in listDirectory(codePath).sorted() where HotSDK.isValidModuleName(module) && boot[module] == nil {
                if let path = newestBuilt(module) { boot[module] = path }
            }
        }
        let builtins = Set(codeServer.loader.builtins())
        var booted: [String: String] = [:]
        for module in Set(boot.keys).union(builtins).sorted() {
            var candidates: [String] = []
            if let path = boot[module], bootable(module, path, builtIn: builtins.contains(module)) { candidates.append(path) }
            if builtins.contains(module), !candidates.contains(BuiltinModules.path(module)) { candidates.append(BuiltinModules.path(module)) }
            for path in candidates {
                do {
                    let results = try codeServer.load([path])
                    for r in results { logger.info("booted \(r.module) v\(r.to)\(r.to == 0 ? " (built in)" : "")") }
                    booted[module] = path
                    break
                } catch {
                    logger.error("could not boot \(module) from \(path): \(error)")
                }
            }
        }
        // A built-in version boots whatever the set says: the set records
        // one only when it was made permanent (a rollback to it).
        let recordable = booted.filter { BuiltinModules.module(of: $0.value) == nil || boot[$0.key] == $0.value }
        if !recorded || recordable.count > (permanentSet.read()?.count ?? 0) {
            do { try permanentSet.write(recordable) } catch { logger.error("could not record the permanent set: \(error)") }
        }
    }

    /// Whether the version at `path` was built for this build of the host
    /// (or for none); if not, says in one line which build it is, that it
    /// is skipped and what boots instead.
    private func bootable(_ module: String, _ path: String, builtIn: Bool) -> Bool {
        guard let descriptor = codeServer.loader.descriptor(of: path), let host = descriptor.host, host != HostFingerprint.current
        else { return true }
        if module == HostPatchName.module {
            // A rebuilt app is a new base: the code it was patched to is built in, or was undone.
            logger.info("left out \(module) v\(descriptor.version): a patch of another build of the host's code, which this build replaces")
            return false
        }
        let instead = builtIn
            ? "booting its built-in v0 instead; `hot deploy` builds and loads the newest sources for this host"
            : "\(module) has no version until `hot deploy` builds one for this host"
        logger.warning("skipped \(module) v\(descriptor.version) (\(lastPathComponent(path))): it was built for another build of the host (\(host.prefix(16))), not this one (\(HostFingerprint.current.map { String($0.prefix(16)) } ?? "unreadable")); \(instead)")
        return false
    }

    /// A marker of a load in progress means the node died in that load: its
    /// build is refused from now on (until a forced load), so that boot and
    /// the next deploy do not walk into the same crash.
    private func recoverDeathInLoad() {
        guard let journal = codeServer.journal else { return }
        do {
            if let death = try journal.recover() {
                logger.error("the node died while loading \(death.module) v\(death.version) (key \(death.key.prefix(12)), \(death.file)); that build is refused until a forced load")
            }
        } catch {
            logger.error("could not record the load the node died in: \(error)")
        }
    }

    /// Makes the current versions of `modules` permanent: what a restart
    /// boots. A module deleted (old code only) leaves the set: a restart
    /// does not bring it back.
    public func makePermanent(_ modules: [String]) throws(LoadError) -> [String: Int] {
        let permanentSet = PermanentSet(stateFolder: store.root)
        var set = permanentSet.read() ?? [:]
        var made: [String: Int] = [:]
        for module in modules {
            let versions = codeServer.versions(module)
            guard let current = versions.current else {
                guard versions.old != nil else { throw .noFile(module) }
                set[module] = nil
                continue
            }
            set[module] = current.path
            made[module] = current.version
        }
        do { try permanentSet.write(set) } catch { throw .badFile(path: permanentSet.path, reason: "\(error)") }
        return made
    }

    /// The version each module boots after a restart.
    func permanentVersions() -> [String: Int] {
        (PermanentSet(stateFolder: store.root).read() ?? [:]).compactMapValues { path in
            BuiltinModules.module(of: path) != nil ? 0 : ArtifactName(fileName: lastPathComponent(path))?.version
        }
    }

    /// Listens on `address` and serves it on a thread of its own.
    /// A listening socket inherited across a compaction is taken over
    /// instead, with the connections waiting in its backlog.
    public func listen(on address: NodeAddress, cookie: [UInt8]) throws(SystemError) -> NodeAddress {
        let listener: Listener
        if let inherited = try adoptInherited(address) { listener = inherited } else { listener = try Listener.listen(on: address) }
        let server = ControlServer(node: self, cookie: cookie)
        let accepted = servers.withLock { servers in
            guard !stopping.load(ordering: .sequentiallyConsistent) else { return false }
            servers.append((listener, server, address))
            return true
        }
        guard accepted else {
            listener.close()
            throw SystemError("listen on \(address): the node is stopping", errno: .invalidArgument)
        }
        finishCompactionRecord()
        do { try startThread { server.serve(listener) } } catch {
            servers.withLock { $0.removeAll { $0.listener === listener } }
            listener.close()
            throw error
        }
        logger.info("listening on \(listener.address)")
        if address.isBeyondLoopback {
            let warning = "listening on \(listener.address), beyond loopback: frames are authenticated but not encrypted; anyone on the network can read them (use ssh:// addresses to reach nodes on other machines)"
            logger.warning("\(warning)")
        }
        return listener.address
    }

    /// Runs `action` when the node stops (the pid file's removal, say), or
    /// at once if it is stopping or has stopped.
    public func atShutdown(_ action: @escaping @Sendable () -> Void) {
        let late = onShutdown.withLock { shutdown in
            if !shutdown.taken { shutdown.actions.append(action) }
            return shutdown.taken
        }
        if late { action() }
    }

    /// Stops the node without ending the process: shuts down the listeners
    /// (removing socket files), so that their threads stop accepting, shuts
    /// down the control connections still open, runs the shutdown actions,
    /// kills and reaps the spare trial child, then wakes whoever waits in `waitUntilStopped` or `stopped()`. Loaded
    /// modules stay mapped (docs/ARCHITECTURE.md, "Fact: never-close").
    /// A second call returns at once; `hot stop` calls this too.
    public func stop(reason: String) {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        logger.info("stopping: \(reason)")
        codeServer.metrics.stop()
        for (listener, server, _) in servers.withLock({ $0 }) {
            // Shut down, not closed: the serving thread closes the descriptor
            // (docs/ARCHITECTURE.md, "A node that outlives its modules and its clients").
            listener.shutdown()
            server.stop()
        }
        let actions = onShutdown.withLock { shutdown in
            shutdown.taken = true
            return shutdown.actions
        }
        for action in actions { action() }
        codeServer.loader.closeTrials()
        stoppedLatch.open()
    }

    /// Whether `stop` has finished.
    public var isStopped: Bool { stoppedLatch.isOpen }

    /// Blocks the calling thread until the node has stopped.
    public func waitUntilStopped() { stoppedLatch.wait() }

    /// Returns once the node has stopped.
    public func stopped() async { await stoppedLatch.wait() }

    /// The document of `hot status --json`.
    public func statusDocument() -> StatusReply {
        let permanent = permanentVersions()
        let builtins = Set(codeServer.loader.builtins())
        let snapshot = codeServer.snapshot()
        let tasks = codeServer.tasks.all()
        func taskCount(_ v: ModuleVersion) -> Int { tasks.count { $0.module == v.name && $0.version == v.version } }
        let modules = snapshot.map { m in
            StatusReply.Module(
                name: m.name,
                current: m.current.map { v in
                    StatusReply.Current(
                        version: v.version, key: v.key, commit: v.commit, loadedAt: v.loadedAt, file: lastPathComponent(v.path),
                        bytes: v.bytes, exports: v.exports.keys.sorted(), calls: v.calls.inFlight, tasks: taskCount(v))
                },
                old: m.old.map { v in
                    StatusReply.Old(
                        version: v.version, processes: processes.pinned(to: v).count, key: v.key, calls: v.calls.inFlight,
                        tasks: taskCount(v))
                },
                sticky: m.sticky, permanent: permanent[m.name], kept: codeServer.kept.keys(of: m.name).nilIfEmpty,
                builtIn: builtins.contains(m.name) ? true : nil)
        }
        let current = Dictionary(snapshot.compactMap { m in m.current.map { (m.name, $0) } }, uniquingKeysWith: { a, _ in a })
        let processList = processes.all().map { entry in
            let function = switch entry.process.kind {
            case .plain(let function): function
            case .server(let server): "server:" + server
            }
            return StatusReply.Process(
                pid: entry.process.pid.description, name: entry.process.name, module: entry.process.module,
                version: entry.version.version, code: current[entry.process.module] === entry.version ? .current : .old,
                function: function)
        }
        let taskList = tasks.map { task in
            StatusReply.TrackedTask(
                id: Int(task.id), label: task.label, module: task.module, version: task.version,
                code: current[task.module]?.version == task.version ? .current : .old, file: task.site.file, line: task.site.line,
                startedAt: task.startedAt, lifetime: task.lifetime.rawValue)
        }
        let deaths = codeServer.journal?.deaths ?? []
        return StatusReply(
            node: name, pid: Int(getpid()), host: HostFingerprint.current, mode: mode.rawValue, modules: modules, processes: processList,
            retainedBytes: codeServer.retainedBytes(),
            refused: deaths.isEmpty ? nil : deaths, mappedVersions: codeServer.mappedVersions,
            lastCompaction: compaction.withLock { $0.last }, tasks: taskList, unsupervised: supervision?.unsupervised)
    }
}

extension Array {
    /// nil for an empty array: a status field absent rather than empty.
    fileprivate var nilIfEmpty: Self? { isEmpty ? nil : self }
}
