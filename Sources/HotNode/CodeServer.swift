import Hot
import HotWire
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
    private let state = Mutex(State())
    private let loading = Mutex(())

    struct State {
        var modules: [String: Entry] = [:]
        var sticky: Set<String> = []
        /// Every version ever published, so that unretained readers stay safe.
        var retained: [ModuleVersion] = []
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
    }

    /// A code server with no modules; `sticky` modules refuse reload unless forced.
    public init(sticky: Set<String> = []) {
        state.withLock { $0.sticky = sticky }
    }

    /// Loads object files as new current versions: all of them or none.
    public func load(_ paths: [String], purge: Bool = false, force: Bool = false) throws(LoadError) -> [LoadResult] {
        try loading.withLock { _ throws(LoadError) in
            let prepared = try paths.map { (path) throws(LoadError) in try prepare(path, force: force) }
            return try finish(prepared)
        }
    }

    private enum Prepared {
        case fresh(ModuleVersion)
        case existing(ModuleVersion)
    }

    /// The expensive half: open, check, enter, run on-load. Touches no table.
    private func prepare(_ path: String, force: Bool) throws(LoadError) -> Prepared {
        if let name = ArtifactName(fileName: lastComponent(path)) {
            if !force, state.withLock({ $0.sticky.contains(name.module) && $0.modules[name.module]?.current != nil }) {
                throw .sticky(module: name.module)
            }
            // The same version again (a boot copy, a re-upload): reuse it rather
            // than map a second image that registers the same Swift module name.
            if let known = loadedVersion(name) {
                return .existing(known)
            }
        }
        let image = try Loader.open(path)
        if let name = ArtifactName(fileName: lastComponent(path)),
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
        let results = state.withLock { state -> [LoadResult] in
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
                    entry.old = entry.current
                    entry.current = version
                }
                state.modules[version.name] = entry
                exports.slotCreating(version.name).publish(version)
                results.append(LoadResult(module: version.name, from: from, to: version.version))
            }
            return results
        }
        return results
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

func lastComponent(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
}
