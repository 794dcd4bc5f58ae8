#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Synchronization

/// The one owner of the node's module state (Erlang's code_server).
///
/// Loads are serialized: each one prepares (opens the objects, checks their
/// descriptors, runs their on-load hooks, no shared state touched) and then
/// finishes in one step under the lock (old dropped, current to old, new to
/// current) for every module of the load, or for none.
public final class CodeServer: Sendable {
    /// External calls read this; only the code server writes it.
    public let exports = ExportTable()
    let processes: ProcessTable
    private let state = Mutex(State())
    private let loading = Mutex(())

    struct State {
        var modules: [String: Entry] = [:]
        var sticky: Set<String> = []
        /// Every version ever published, so that unretained readers stay safe.
        var retained: [ModuleVersion] = []
        /// Objects whose trial load passed, by path, size and modification
        /// time: a deploy checks while staging and need not check again.
        var trialPassed: Set<String> = []
    }

    struct Entry {
        var current: ModuleVersion?
        var old: ModuleVersion?
    }

    /// What a load did to one module.
    public struct LoadResult: Sendable, Equatable {
        /// The module.
        public let module: String
        /// The version that was current before, if any.
        public let from: Int?
        /// The version current now.
        public let to: Int
        /// Processes in old code that a purge before the load stopped.
        public var stopped: [Pid] = []
        /// Processes that would not stop: their version stays mapped.
        public var stubborn: [Pid] = []
    }

    /// A code server with no modules; `sticky` modules refuse reload unless forced.
    /// The executable that runs trial loads (`--check FILE`); nil: none.
    let trialExecutable: String?

    init(sticky: Set<String> = [], processes: ProcessTable, trialExecutable: String?) {
        self.processes = processes
        self.trialExecutable = trialExecutable
        state.withLock { $0.sticky = sticky }
    }

    /// How long a purge waits for processes in old code to stop.
    public static let purgeTimeout = 2.0

    /// Loads object files as new current versions: all of them or none. With
    /// `purge`, processes still in the old code of those modules are stopped
    /// first (as `c:l/1` does); without, such a load fails with `notPurged`.
    public func load(_ paths: [String], purge: Bool = false, force: Bool = false) throws(LoadError) -> [LoadResult] {
        try loading.withLock { _ throws(LoadError) in
            let prepared = try paths.map { (path) throws(LoadError) in try prepare(path, force: force) }
            var purged: [String: PurgeResult] = [:]
            if purge {
                for item in prepared { purged[item.version.name] = purgeOld(item.version.name) }
            }
            return try finish(prepared).map { result in
                var result = result
                result.stopped = purged[result.module]?.stopped ?? []
                result.stubborn = purged[result.module]?.stubborn ?? []
                return result
            }
        }
    }

    /// What a purge did.
    public struct PurgeResult: Sendable {
        /// The version dropped, if there was an old one.
        public let version: Int?
        /// Processes that were stopped.
        public let stopped: [Pid]
        /// Processes that did not stop in time: their version stays mapped.
        public let stubborn: [Pid]
    }

    /// Erlang's `code:purge`: stops the processes in old code (cooperatively,
    /// waiting up to `purgeTimeout`), then drops old.
    public func purge(_ module: String) throws(LoadError) -> PurgeResult {
        try loading.withLock { _ throws(LoadError) in
            guard state.withLock({ $0.modules[module] }) != nil else { throw .noFile(module) }
            return purgeOld(module)
        }
    }

    private func purgeOld(_ module: String) -> PurgeResult {
        guard let old = state.withLock({ $0.modules[module]?.old }) else {
            return PurgeResult(version: nil, stopped: [], stubborn: [])
        }
        let victims = processes.pinned(to: old)
        for process in victims { process.mailbox.cancel() }
        let stubborn = processes.waitForEnd(of: victims.map(\.pid), timeout: Self.purgeTimeout)
        state.withLock { state in
            if state.modules[module]?.old === old { state.modules[module]?.old = nil }
        }
        let stopped = victims.map(\.pid).filter { !stubborn.contains($0) }
        return PurgeResult(version: old.version, stopped: stopped, stubborn: stubborn)
    }

    /// Erlang's `code:soft_purge`: drops old only if no process runs in it.
    public func softPurge(_ module: String) throws(LoadError) -> Int? {
        try loading.withLock { _ throws(LoadError) in
            guard let entry = state.withLock({ $0.modules[module] }) else { throw .noFile(module) }
            guard let old = entry.old else { return nil }
            let running = processes.pinned(to: old)
            guard running.isEmpty else { throw .notPurged(module: module, pids: running.map(\.pid.description)) }
            state.withLock { state in
                if state.modules[module]?.old === old { state.modules[module]?.old = nil }
            }
            return old.version
        }
    }

    /// Erlang's `code:delete`: current becomes old, and external calls fail
    /// with `undefined` until the next load. Refused while old code still runs.
    public func delete(_ module: String) throws(LoadError) -> Int {
        try loading.withLock { _ throws(LoadError) in
            let result: Result<Int, LoadError> = state.withLock { state in
                guard var entry = state.modules[module], let current = entry.current else { return .failure(.noFile(module)) }
                if state.sticky.contains(module) { return .failure(.sticky(module: module)) }
                if let old = entry.old {
                    let running = processes.pinned(to: old)
                    if !running.isEmpty { return .failure(.notPurged(module: module, pids: running.map(\.pid.description))) }
                }
                entry.old = current
                entry.current = nil
                state.modules[module] = entry
                exports.slot(module)?.publish(nil)
                return .success(current.version)
            }
            return try result.get()
        }
    }

    /// Makes old current again and current old: the release handler's
    /// rollback, which needs no build since old is still loaded.
    public func rollback(_ module: String) throws(LoadError) -> LoadResult {
        try loading.withLock { _ throws(LoadError) in
            let result: Result<LoadResult, LoadError> = state.withLock { state in
                guard var entry = state.modules[module] else { return .failure(.noFile(module)) }
                guard let old = entry.old else { return .failure(.noFile("\(module) has no old version to roll back to")) }
                let from = entry.current?.version
                entry.old = entry.current
                entry.current = old
                state.modules[module] = entry
                exports.slotCreating(module).publish(old)
                return .success(LoadResult(module: module, from: from, to: old.version))
            }
            return try result.get()
        }
    }

    /// Trial-loads objects without loading them here.
    func check(_ paths: [String]) throws(LoadError) {
        for path in paths {
            if let name = ArtifactName(fileName: lastPathComponent(path)), loadedVersion(name) != nil { continue }
            guard fileExists(path) else { throw .noFile(lastPathComponent(path)) }
            try trial(path)
        }
    }

    /// Runs the trial load of an object unless it passed one already.
    private func trial(_ path: String) throws(LoadError) {
        guard let trialExecutable else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .noFile(lastPathComponent(path)) }
        let identity = "\(path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
        if state.withLock({ $0.trialPassed.contains(identity) }) { return }
        try TrialLoad.check(path, executable: trialExecutable)
        _ = state.withLock { $0.trialPassed.insert(identity) }
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

    /// The expensive half: open, check, enter, run on-load. Touches no table.
    private func prepare(_ path: String, force: Bool) throws(LoadError) -> Prepared {
        if let name = ArtifactName(fileName: lastPathComponent(path)) {
            if !force, state.withLock({ $0.sticky.contains(name.module) && $0.modules[name.module]?.current != nil }) {
                throw .sticky(module: name.module)
            }
            // The same version again (a boot copy, a re-upload): reuse it rather
            // than map a second image that registers the same Swift module name.
            if let known = loadedVersion(name) {
                return .existing(known)
            }
        }
        try trial(path)
        let image = try Loader.open(path)
        if let name = ArtifactName(fileName: lastPathComponent(path)),
            name.module != image.descriptor.name || name.version != image.descriptor.version
        {
            throw .badFile(path: path, reason: "file name does not match its descriptor (\(image.descriptor.name) v\(image.descriptor.version))")
        }
        if !force, state.withLock({ $0.sticky.contains(image.descriptor.name) && $0.modules[image.descriptor.name]?.current != nil }) {
            throw .sticky(module: image.descriptor.name)
        }
        let module = try Loader.enter(image)
        if let onLoad = module.onLoad {
            do {
                try onLoad()
            } catch {
                throw .onLoadFailure(module: image.descriptor.name, message: "\(error)")
            }
        }
        return .fresh(ModuleVersion(image: image, module: module, loadedAt: now()))
    }

    /// A version of the same number and key that is current or old already.
    private func loadedVersion(_ name: ArtifactName) -> ModuleVersion? {
        state.withLock { state -> ModuleVersion? in
            guard let entry = state.modules[name.module] else { return nil }
            for candidate in [entry.current, entry.old] {
                if let v = candidate, v.version == name.version, v.key.hasPrefix(name.keyPrefix) { return v }
            }
            return nil
        }
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
                let running = processes.pinned(to: old)
                if !running.isEmpty {
                    return .failure(.notPurged(module: version.name, pids: running.map(\.pid.description)))
                }
            }
            var results: [LoadResult] = []
            for item in prepared {
                let version: ModuleVersion
                switch item {
                case .fresh(let v):
                    version = v
                    state.retained.append(v)
                case .existing(let v):
                    version = v
                }
                var entry = state.modules[version.name] ?? Entry()
                let from = entry.current?.version
                if entry.current !== version {
                    // Reloading what is old swaps the two (a rollback); else old is dropped.
                    entry.old = entry.current ?? (entry.old === version ? nil : entry.old)
                    entry.current = version
                }
                state.modules[version.name] = entry
                exports.slotCreating(version.name).publish(version)
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

    /// The bytes of every version kept mapped though no longer current or old.
    public func retainedBytes() -> Int {
        state.withLock { state in
            let live = Set(state.modules.values.flatMap { [$0.current, $0.old].compactMap { $0.map(ObjectIdentifier.init) } })
            return state.retained.filter { !live.contains(ObjectIdentifier($0)) }.reduce(0) { $0 + $1.bytes }
        }
    }
}

/// One module's line of `hot status`.
public struct ModuleStatus: Sendable {
    /// The module.
    public let name: String
    /// Its current version.
    public let current: ModuleVersion?
    /// Its old version.
    public let old: ModuleVersion?
    /// Whether reload needs force.
    public let sticky: Bool
}

