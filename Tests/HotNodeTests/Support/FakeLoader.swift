import Hot
import HotPlatform
import Synchronization

@testable import HotNode

/// A `ModuleLoader` over module versions made in Swift: a file name
/// (`calc.v2-bbbbbbbbbbbb.so`, in any folder) names a version with its
/// exports, and nothing is compiled, opened or run in a child.
final class FakeLoader: ModuleLoader {
    private struct Version: Sendable {
        let descriptor: ModuleDescriptor
        let module: HotModule
    }

    private let versions = Mutex<[String: Version]>([:])
    private let trialFailures = Mutex<Set<String>>([])
    private let enteredPaths = Mutex<[String]>([])
    private let trialPaths = Mutex<[String]>([])
    private let trialPassed = Mutex<Set<String>>([])
    private let trialGates = Mutex<[String: Gate]>([:])
    /// Whether trials tell the export types (a real one does unless its
    /// output was cut); without them only the load's own check refuses.
    let trialTellsTypes = Atomic<Bool>(true)
    private let builtinModules = Mutex<[String]>([])

    /// A content key of 64 copies of one hex digit.
    static func key(_ digit: Character) -> String { String(repeating: digit, count: 64) }

    /// Serves `module` v`version`, built from sources whose key is `key`;
    /// returns its path under `folder`. Its exports are `version` (returns
    /// the number) and `wait` (a process body that ends at its first
    /// message), plus `extra`.
    @discardableResult
    func add(
        _ module: String, _ version: Int, key: String = FakeLoader.key("a"), folder: String = "/fake",
        extra: [Export] = [], servers: [ServerSpec] = [], onLoad: (@Sendable () throws -> Void)? = nil, host: String? = nil
    ) -> String {
        let descriptor = ModuleDescriptor(
            abi: HotSDK.abiVersion, sdk: HotSDK.fingerprint, compiler: HotSDK.compiler,
            name: module, version: version, key: key, host: host)
        let exports = [
            Export.function("version") { () -> Int in version },
            Export(name: "wait", arity: 0) { _ in
                _ = try Hot.Process.receive()
                return .null
            },
        ]
        let hotModule = HotModule(exports: exports + extra, servers: servers, onLoad: onLoad)
        if version == 0 {
            // Version 0 is a built-in version, linked into the host rather than built by hot build.
            builtinModules.withLock { $0.append(module) }
            let path = BuiltinModules.path(module)
            serve(path, Version(descriptor: descriptor, module: hotModule))
            return path
        }
        let fileName = ArtifactName(module: module, version: version, key: key).fileName
        serve(fileName, Version(descriptor: descriptor, module: hotModule))
        return "\(folder)/\(fileName)"
    }

    /// Serves the version at `path` under another file name too, as an
    /// object copied to a path no artifact name describes.
    func alias(_ path: String, as fileName: String) -> String {
        let version = versions.withLock { $0[lastPathComponent(path)] }!
        serve(fileName, version)
        return "/fake/\(fileName)"
    }

    private func serve(_ fileName: String, _ version: Version) {
        versions.withLock { $0[fileName] = version }
    }

    /// Makes the trial load of `path` fail, as a trap in a child would.
    func failTrial(_ path: String) {
        _ = trialFailures.withLock { $0.insert(lastPathComponent(path)) }
    }

    /// Makes the trial load of `path` block until `gate` opens, as a
    /// constructor that does not return would hold a real trial.
    func holdTrial(_ path: String, at gate: Gate) {
        trialGates.withLock { $0[lastPathComponent(path)] = gate }
    }

    /// The paths whose entry ran, in order: the versions whose own code ran.
    var entered: [String] { enteredPaths.withLock { $0 } }

    /// The paths trial-loaded, in order (a path that passed once is not tried again, as with `Loader`).
    var trials: [String] { trialPaths.withLock { $0 } }

    func open(_ path: String) throws(LoadError) -> ModuleImage {
        guard let version = versions.withLock({ $0[lastPathComponent(path)] }) else { throw .noFile(path) }
        return ModuleImage(descriptor: version.descriptor, path: path, bytes: 4096) { [self] () throws(LoadError) in
            enteredPaths.withLock { $0.append(path) }
            return version.module
        }
    }

    func builtins() -> [String] { builtinModules.withLock { $0.sorted() } }

    func descriptor(of path: String) -> ModuleDescriptor? { versions.withLock { $0[lastPathComponent(path)] }?.descriptor }

    /// As `Loader`'s trial, the export types are what the module's exports
    /// say, named as a trial child names them (`ExportType(of:)`); a built-in
    /// version runs no trial.
    @discardableResult
    func trial(_ path: String) throws(LoadError) -> [String: ExportType]? {
        if BuiltinModules.module(of: path) != nil { return nil }
        let fileName = lastPathComponent(path)
        guard let version = versions.withLock({ $0[fileName] }) else { throw .noFile(fileName) }
        let said = Dictionary(version.module.exports.map { ($0.name, ExportType(of: $0)) }) { first, _ in first }
        let types = trialTellsTypes.load(ordering: .relaxed) ? said : nil
        if trialPassed.withLock({ $0.contains(path) }) { return types }
        trialPaths.withLock { $0.append(path) }
        trialGates.withLock { $0[fileName] }?.pass()
        if trialFailures.withLock({ $0.contains(fileName) }) {
            throw .trialFailed(path: path, reason: "the trial load died: Trace/breakpoint trap", code: .badFile)
        }
        _ = trialPassed.withLock { $0.insert(path) }
        return types
    }
}
