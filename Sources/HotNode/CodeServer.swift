#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotWire
import HotPlatform
import Synchronization

/// The one owner of the node's module state (Erlang's code_server).
///
/// Loads are serialized: each one prepares (opens the objects, checks their
/// descriptors, runs their on-load hooks, no shared state touched) and then
/// finishes in one step under the lock (old dropped, current to old, new to
/// current) for every module of the load, or for none.
///
/// Lock order (docs/ARCHITECTURE.md, "Lock order"): `loading`, then `state`,
/// then the process table's lock, the export table's or the task table's;
/// a mailbox's and a reply's lock are leaves, and so are the kept store's
/// table and value locks. A lock is only ever taken while holding those
/// before it, never after.
public final class CodeServer: Sendable {
    /// External calls read this; only the code server publishes versions in it.
    public let exports = ExportTable()
    let processes: ProcessTable
    /// The tracked tasks (`Tasks.start`), each with its version.
    let tasks: TaskTable
    /// The values modules keep across reloads (`Kept`).
    let kept: KeptStore
    /// Where module code comes from: `dlopen` in a node, Swift values in a test.
    let loader: any ModuleLoader
    /// How long a purge waits for processes in old code to stop, and for
    /// the calls it cancelled there to end.
    let purgeTimeout: Duration
    /// How long a load, soft purge or delete that would drop a version
    /// waits for the async calls still running in it before it is refused.
    let callsTimeout: Duration
    /// Loads that made versions current (one per module), and loads refused.
    let loadCount = Atomic<Int>(0)
    let refusedCount = Atomic<Int>(0)
    /// The node's figures through swift-metrics.
    public let metrics: NodeMetrics
    /// The marker of the load in progress and the builds the node died loading.
    let journal: LoadJournal?
    /// First in the lock order: one load, purge, delete or rollback at a
    /// time. Held while a new version's entry and on-load hook run, never
    /// across a trial load (which runs before it is taken, and has a deadline).
    private let loading = Locked(())
    /// The thread inside `loading`, 0 when none: a module's on-load hook runs
    /// under the lock, and a load it causes (an external call to a module not
    /// loaded yet, in interactive mode) must be refused, not deadlock.
    private let loadingThread = Atomic<UInt>(0)
    /// Second in the lock order, taken under `loading` or alone; held only
    /// for table work, never while a module's code runs.
    private let state = Locked(State())

    struct State {
        var modules: [String: Entry] = [:]
        var sticky: Set<String> = []
        /// Every version ever loaded: none is unmapped (docs/ARCHITECTURE.md,
        /// "Fact: never-close"), and `retainedBytes` counts what that costs.
        var loaded: [ModuleVersion] = []
    }

    struct Entry {
        var current: ModuleVersion?
        var old: ModuleVersion?
    }

    /// Runs `body` under `loading`, noting this thread as its holder.
    private func serialized<T>(_ body: () throws(LoadError) -> T) throws(LoadError) -> T {
        try loading.withLock { _ throws(LoadError) in
            loadingThread.store(UInt(pthread_self()), ordering: .relaxed)
            defer { loadingThread.store(0, ordering: .relaxed) }
            return try body()
        }
    }

    /// Whether this thread is inside a load, purge, delete or rollback (so
    /// running a module's entry or on-load hook): another load from here
    /// would wait for itself.
    public var isLoadingOnThisThread: Bool {
        loadingThread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// How long a purge waits for processes in old code to stop, unless told otherwise.
    public static let purgeTimeout: Duration = .seconds(2)
    /// How long a load waits for calls in a version it would drop, unless told otherwise.
    public static let callsTimeout: Duration = .seconds(2)

    /// A code server with no modules; `sticky` modules refuse reload unless forced.
    init(sticky: Set<String> = [], processes: ProcessTable, tasks: TaskTable, kept: KeptStore = KeptStore(), loader: any ModuleLoader,
         purgeTimeout: Duration = CodeServer.purgeTimeout, callsTimeout: Duration = CodeServer.callsTimeout, journal: LoadJournal? = nil,
         metrics: NodeMetrics = NodeMetrics()) {
        self.metrics = metrics
        self.processes = processes
        self.tasks = tasks
        self.kept = kept
        self.loader = loader
        self.purgeTimeout = purgeTimeout
        self.callsTimeout = callsTimeout
        self.journal = journal
        state.withLock { $0.sticky = sticky }
    }

    /// Loads object files as new current versions: all of them or none. With
    /// `purge`, processes still in the old code of those modules are stopped
    /// first (as `c:l/1` does); without, such a load fails with `notPurged`.
    /// A build the node died loading is refused unless `force`.
    public func load(_ paths: [String], purge: Bool = false, force: Bool = false) throws(LoadError) -> [LoadResult] {
        defer { metrics.publishLoads(self) }
        do {
            let results = try loadCounted(paths, purge: purge, force: force)
            loadCount.add(results.count, ordering: .relaxed)
            return results
        } catch {
            refusedCount.add(1, ordering: .relaxed)
            throw error
        }
    }

    private func loadCounted(_ paths: [String], purge: Bool, force: Bool) throws(LoadError) -> [LoadResult] {
        // Refusals and trials before `loading`: a trial touches no shared
        // state, and one that hangs must not stall every other client's
        // load. `prepare` asks the loader again under the lock, which costs
        // nothing for an object that passed and tries again one that changed.
        for path in paths {
            let name = ArtifactName(fileName: lastPathComponent(path))
            if let name {
                try refuseSticky(name.module, force: force)
                if !force, let death = journal?.death(name.module, version: name.version, key: name.keyPrefix) {
                    throw .diedInLoad(death)
                }
            }
            try trialUnlessHeld(path, name: name)
        }
        return try serialized { () throws(LoadError) in
            do throws(LoadError) {
                return try loadSerialized(paths, purge: purge, force: force)
            } catch {
                // On-load hooks of versions that did not become current may
                // have started tracked tasks: nothing could ever purge them.
                tasks.cancel(unless: isLive)
                throw error
            }
        }
    }

    /// `load` under `loading`.
    private func loadSerialized(_ paths: [String], purge: Bool, force: Bool) throws(LoadError) -> [LoadResult] {
        var prepared: [Prepared] = []
        for path in paths { prepared.append(try prepare(path, force: force, alongside: prepared)) }
        var purged: [String: PurgeResult] = [:]
        if purge {
            for item in prepared { purged[item.version.name] = purgeOld(item.version.name) }
        } else {
            // Calls still running in a version this load would drop get
            // the bound to end, outside the state lock; `finish` then
            // refuses the load if any still runs.
            for item in prepared { _ = dropped(by: item.version)?.calls.waitForEnd(until: .now + callsTimeout) }
        }
        let results = try finish(prepared)
        for result in results { tasks.cancelSuperseded(result.module, current: result.to) }
        return results.map { result in
            var result = result
            result.work = purged[result.module]?.work ?? StoppedWork()
            return result
        }
    }

    /// Erlang's `code:purge`: stops the processes in old code (cooperatively,
    /// waiting up to `purgeTimeout`), then drops old.
    public func purge(_ module: String) throws(LoadError) -> PurgeResult {
        try serialized { () throws(LoadError) in
            guard state.withLock({ $0.modules[module] }) != nil else { throw .noFile(module) }
            return purgeOld(module)
        }
    }

    private func purgeOld(_ module: String) -> PurgeResult {
        guard let old = state.withLock({ $0.modules[module]?.old }) else {
            return PurgeResult(version: nil)
        }
        let victims = processes.pinned(to: old)
        for process in victims { process.mailbox.cancel() }
        let cancelled = old.calls.cancelAll()
        let doomed = tasks.running(module, version: old.version)
        tasks.cancel(doomed.map(\.id))
        let deadline = ContinuousClock.now + purgeTimeout
        let stubborn = processes.waitForEnd(of: victims.map(\.pid), until: deadline)
        let unended = old.calls.waitForEnd(until: deadline)
        let unendedTasks = tasks.waitForEnd(of: doomed.map(\.id), until: deadline)
        dropOld(old, of: module)
        let stopped = victims.map(\.pid).filter { !stubborn.contains($0) }
        return PurgeResult(version: old.version, work: StoppedWork(
            stopped: stopped, stubborn: stubborn, cancelledCalls: cancelled, unendedCalls: unended,
            cancelledTasks: doomed.map(\.description), unendedTasks: unendedTasks.map(\.description)))
    }

    /// Drops `old` from `module` unless something replaced it meanwhile. A
    /// module left with no version at all (deleted, then purged) has left
    /// the node, and its kept state goes with it (docs/RELOADING.md).
    private func dropOld(_ old: ModuleVersion, of module: String) {
        let gone = state.withLock { state -> Bool in
            if state.modules[module]?.old === old { state.modules[module]?.old = nil }
            return state.modules[module]?.current == nil && state.modules[module]?.old == nil
        }
        if gone { kept.drop(module) }
    }

    /// Whether `module` v`version` is current or old: a tracked task of any
    /// other version was started by a load that failed, or outlived a purge.
    private func isLive(_ module: String, _ version: Int) -> Bool {
        state.withLock { state in
            state.modules[module]?.current?.version == version || state.modules[module]?.old?.version == version
        }
    }

    /// The version that making `version` current would drop (the old one,
    /// unless `version` is current or old already), if any.
    private func dropped(by version: ModuleVersion) -> ModuleVersion? {
        state.withLock { state in
            guard let entry = state.modules[version.name], entry.current !== version, let old = entry.old, old !== version else {
                return nil
            }
            return old
        }
    }

    /// Erlang's not_purged for `old`: the processes that run in it, and the
    /// calls still running there after waiting up to `callsTimeout` (the
    /// caller holds `loading`, not `state`).
    private func refusal(_ module: String, dropping old: ModuleVersion) -> LoadError? {
        notPurged(module, old, calls: old.calls.waitForEnd(until: .now + callsTimeout))
    }

    /// `notPurged` naming the work that keeps `old` in use (its processes,
    /// `calls` in flight and its tracked tasks), or nil when there is none.
    private func notPurged(_ module: String, _ old: ModuleVersion, calls: Int) -> LoadError? {
        let running = processes.pinned(to: old)
        let tasks = self.tasks.running(module, version: old.version).map(\.description)
        guard !running.isEmpty || calls > 0 || !tasks.isEmpty else { return nil }
        return .notPurged(module: module, pids: running.map(\.pid.description), calls: calls, tasks: tasks)
    }

    /// Erlang's `code:soft_purge`: drops old only if no process runs in it.
    public func softPurge(_ module: String) throws(LoadError) -> Int? {
        try serialized { () throws(LoadError) in
            guard let entry = state.withLock({ $0.modules[module] }) else { throw .noFile(module) }
            guard let old = entry.old else { return nil }
            if let refusal = refusal(module, dropping: old) { throw refusal }
            dropOld(old, of: module)
            return old.version
        }
    }

    /// Erlang's `code:delete`: current becomes old, and external calls fail
    /// with `undefined` until the next load. Refused while old code still runs.
    public func delete(_ module: String) throws(LoadError) -> Int {
        try serialized { () throws(LoadError) in
            if let old = state.withLock({ $0.modules[module]?.old }), let refusal = refusal(module, dropping: old) { throw refusal }
            let result: Result<Int, LoadError> = state.withLock { state in
                guard var entry = state.modules[module], let current = entry.current else { return .failure(.noFile(module)) }
                if state.sticky.contains(module) { return .failure(.sticky(module: module)) }
                if let old = entry.old, let refusal = notPurged(module, old, calls: old.calls.inFlight) {
                    return .failure(refusal)
                }
                entry.old = current
                entry.current = nil
                state.modules[module] = entry
                exports.publish(nil, as: module)
                return .success(current.version)
            }
            let version = try result.get()
            tasks.cancelSuperseded(module, current: nil)
            return version
        }
    }

    /// Makes old current again and current old: the release handler's
    /// rollback, which needs no build since old is still loaded.
    /// With no old version left, a module the host has built in rolls
    /// back to its built-in version (docs/ARCHITECTURE.md, "Built-in versions").
    public func rollback(_ module: String) throws(LoadError) -> LoadResult {
        try serialized { () throws(LoadError) in
            let entry = state.withLock { $0.modules[module] }
            if entry != nil, entry?.old == nil, entry?.current?.version != 0, loader.builtins().contains(module) {
                // Forced: a rollback is the operator's explicit choice, as it is for a sticky module's old version.
                return try loadSerialized([BuiltinModules.path(module)], purge: false, force: true)[0]
            }
            // Old must fit the live typed handles as a load's version must.
            if let old = versions(module).old { try refuseUnfit(module, version: old.version, module: old.module) }
            let result: Result<LoadResult, LoadError> = state.withLock { state in
                guard var entry = state.modules[module] else { return .failure(.noFile(module)) }
                guard let old = entry.old else { return .failure(.noFile("\(module) has no old version to roll back to")) }
                let from = entry.current?.version
                entry.old = entry.current
                entry.current = old
                state.modules[module] = entry
                exports.publish(old, as: module)
                return .success(LoadResult(module: module, from: from, to: old.version))
            }
            let rolledBack = try result.get()
            tasks.cancelSuperseded(module, current: rolledBack.to)
            return rolledBack
        }
    }

    /// Trial-loads objects without loading them here; refuses one whose
    /// version number this node holds under another key.
    func check(_ paths: [String]) throws(LoadError) {
        for path in paths { try trialUnlessHeld(path, name: ArtifactName(fileName: lastPathComponent(path))) }
    }

    /// Trial-loads an object unless its version is current or old here
    /// already, and refuses it when the exports the trial found do not fit
    /// the live typed handles (a deploy's stage refuses it so).
    private func trialUnlessHeld(_ path: String, name: ArtifactName?) throws(LoadError) {
        if let name, try held(name.module, version: name.version, key: name.keyPrefix, alongside: []) != nil { return }
        let types = try loader.trial(path)
        if let name, let types { try refuseUnfit(name.module, version: name.version, trialTypes: types) }
    }

    /// Whether a version is current or old somewhere (a process may pin it).
    func isLive(_ version: ModuleVersion) -> Bool {
        state.withLock { state in
            let entry = state.modules[version.name]
            return entry?.current === version || entry?.old === version
        }
    }

    private enum Prepared {
        case fresh(ModuleVersion)
        case existing(ModuleVersion)

        var version: ModuleVersion {
            switch self {
            case .fresh(let v), .existing(let v): v
            }
        }
    }

    /// The expensive half: open, check, enter, run on-load. Touches no
    /// table, and refuses what it can before any of the module's code runs.
    private func prepare(_ path: String, force: Bool, alongside batch: [Prepared]) throws(LoadError) -> Prepared {
        let name = ArtifactName(fileName: lastPathComponent(path))
        if let name {
            try refuseSticky(name.module, force: force)
            if let known = try held(name.module, version: name.version, key: name.keyPrefix, alongside: batch) {
                return try existing(known)
            }
        }
        // A built-in version entered before (a rollback to it, a boot after
        // a compaction) is the same code: made current again, not entered again.
        if BuiltinModules.module(of: path) != nil, let known = state.withLock({ $0.loaded.first { $0.path == path } }) {
            try refuseSticky(known.name, force: force)
            return try existing(known)
        }
        _ = try loader.trial(path)
        // dlopen runs the object's initializers: from here its code may run
        // in the node, so the marker goes first.
        if let name { try mark(name.module, version: name.version, key: name.keyPrefix, path: path, force: force) }
        defer { journal?.end() }
        let image = try loader.open(path)
        let descriptor = image.descriptor
        if let name, name.module != descriptor.name || name.version != descriptor.version {
            throw .badFile(path: path, reason: "file name does not match its descriptor (\(descriptor.name) v\(descriptor.version))")
        }
        try refuseSticky(descriptor.name, force: force)
        if let known = try held(descriptor.name, version: descriptor.version, key: descriptor.key, alongside: batch) {
            return try existing(known)
        }
        if name == nil { try mark(descriptor.name, version: descriptor.version, key: descriptor.key, path: path, force: force) }
        // The entry hands over the exports; they must fit the live handles
        // before the on-load hook runs (docs/ARCHITECTURE.md, "Typed handles").
        let entered = try image.enter()
        try refuseUnfit(descriptor.name, version: descriptor.version, module: entered)
        let module = try image.runOnLoad(entered)
        return .fresh(ModuleVersion(image: image, module: module, loadedAt: now()))
    }

    /// Writes the marker of the load in progress (see `LoadJournal`: a
    /// restart must not repeat the load the node died in); a forced load
    /// first forgets that the node died in it.
    private func mark(_ module: String, version: Int, key: String, path: String, force: Bool) throws(LoadError) {
        guard let journal else { return }
        if !force, let death = journal.death(module, version: version, key: key) { throw .diedInLoad(death) }
        do throws(SystemError) {
            if force { try journal.forgive(module, version: version, key: key) }
            try journal.begin(module, version: version, key: key, file: lastPathComponent(path))
        } catch {
            throw .badFile(path: path, reason: "cannot record the load in progress: \(error)")
        }
    }

    /// A version loaded already, again: refused as a new one would be when
    /// it is not current and its exports no longer fit the live handles.
    private func existing(_ known: ModuleVersion) throws(LoadError) -> Prepared {
        if !isCurrent(known) { try refuseUnfit(known.name, version: known.version, module: known.module) }
        return .existing(known)
    }

    private func isCurrent(_ version: ModuleVersion) -> Bool {
        state.withLock { $0.modules[version.name]?.current === version }
    }

    /// Erlang's sticky directories: a sticky module with a current version
    /// reloads only when forced.
    private func refuseSticky(_ module: String, force: Bool) throws(LoadError) {
        if !force, state.withLock({ $0.sticky.contains(module) && $0.modules[module]?.current != nil }) {
            throw .sticky(module: module)
        }
    }

    /// The version `number` of `module` that is current or old already, or
    /// earlier in the same load, when its key is `key` (or starts with it: a
    /// file name carries the key's first digits). The same version again (a
    /// boot copy, a re-upload, a rollback) is reused rather than mapped a
    /// second time. The same number under another key is refused: two images
    /// with one number register one Swift module name (docs/ARCHITECTURE.md,
    /// "Fact: name-per-version").
    private func held(_ module: String, version number: Int, key: String, alongside batch: [Prepared]) throws(LoadError) -> ModuleVersion? {
        let live = state.withLock { [$0.modules[module]?.current, $0.modules[module]?.old] }.compactMap { $0 }
        guard let same = (live + batch.map(\.version)).first(where: { $0.name == module && $0.version == number }) else {
            return nil
        }
        guard same.key.hasPrefix(key) else {
            throw .versionTaken(module: module, version: number, loadedKey: same.key, key: key)
        }
        return same
    }

    /// The cheap half: one step under the lock, for every module or none.
    private func finish(_ prepared: [Prepared]) throws(LoadError) -> [LoadResult] {
        let outcome: Result<[LoadResult], LoadError> = state.withLock { state in
            // Erlang's not_purged: making current old would drop an old
            // version that processes still run. Checked for every module
            // before any changes, so the load is all or nothing.
            for item in prepared {
                let version = item.version
                guard let entry = state.modules[version.name], entry.current !== version,
                    let old = entry.old, old !== version
                else { continue }
                if let refusal = notPurged(version.name, old, calls: old.calls.inFlight) { return .failure(refusal) }
            }
            var results: [LoadResult] = []
            for item in prepared {
                let version = item.version
                if case .fresh = item { state.loaded.append(version) }
                var entry = state.modules[version.name] ?? Entry()
                let from = entry.current?.version
                if entry.current !== version {
                    // Reloading what is old swaps the two (a rollback); else old is dropped.
                    entry.old = entry.current ?? (entry.old === version ? nil : entry.old)
                    entry.current = version
                }
                state.modules[version.name] = entry
                exports.publish(version, as: version.name)
                results.append(LoadResult(module: version.name, from: from, to: version.version))
            }
            return .success(results)
        }
        return try outcome.get()
    }

    /// The current and old version of a module.
    func versions(_ module: String) -> (current: ModuleVersion?, old: ModuleVersion?) {
        state.withLock { ($0.modules[module]?.current, $0.modules[module]?.old) }
    }

    /// The modules and what is current and old in each, for `hot status`.
    public func snapshot() -> [ModuleStatus] {
        state.withLock { state in
            state.modules.keys.sorted().map { name in
                let entry = state.modules[name]!
                return ModuleStatus(
                    name: name, current: entry.current, old: entry.old, sticky: state.sticky.contains(name))
            }
        }
    }

    /// How many versions this process has mapped: every distinct version it
    /// ever loaded (docs/ARCHITECTURE.md, "Fact: never-close").
    public var mappedVersions: Int { state.withLock { $0.loaded.count } }

    /// Runs `body` with no load, purge, delete or rollback under way, and
    /// none starting until it returns (a compaction).
    func exclusively<T>(_ body: () throws(CompactionRefusal) -> T) throws(CompactionRefusal) -> T {
        try loading.withLock { _ throws(CompactionRefusal) in
            loadingThread.store(UInt(pthread_self()), ordering: .relaxed)
            defer { loadingThread.store(0, ordering: .relaxed) }
            return try body()
        }
    }

    /// The bytes of every version kept mapped though no longer current or old.
    public func retainedBytes() -> Int {
        state.withLock { state in
            let live = Set(state.modules.values.flatMap { [$0.current, $0.old].compactMap { $0.map(ObjectIdentifier.init) } })
            return state.loaded.filter { !live.contains(ObjectIdentifier($0)) }.reduce(0) { $0 + $1.bytes }
        }
    }

    /// The figures `NodeMetrics` publishes; the state lock is held only to
    /// copy the list of versions.
    /// Loads, refused loads and versions mapped: what a load changes, read in constant time.
    func loadFigures() -> (loads: Int, refused: Int, versions: Int) {
        (loadCount.load(ordering: .relaxed), refusedCount.load(ordering: .relaxed), state.withLock { $0.loaded.count })
    }

    func figures() -> NodeMetrics.Figures {
        let loaded = state.withLock { $0.loaded }
        var figures = NodeMetrics.Figures(
            loads: loadCount.load(ordering: .relaxed), refused: refusedCount.load(ordering: .relaxed), versions: loaded.count,
            retainedBytes: retainedBytes())
        for version in loaded {
            figures.calls += version.calls.total
            figures.failedCalls += version.calls.failures
            figures.inFlight += version.calls.inFlight
        }
        return figures
    }
}
