import HotPlatform
import HotWire

/// Why a version did not become current: Erlang's load errors, and the
/// checks a Swift image needs besides.
public enum LoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No such file, or no version of the module to load (`nofile`).
    case noFile(String)
    /// The object cannot be opened or is no hot module (`badfile`).
    case badFile(path: String, reason: String)
    /// The descriptor disagrees with this node (`expected` is the node's side).
    case mismatch(field: String, expected: String, found: String)
    /// The module was compiled against another build of the host executable
    /// than the one this node runs in (`expected` is this node's fingerprint,
    /// nil when it could not be read).
    case hostMismatch(module: String, expected: String?, found: String)
    /// Old code still runs in processes, in async calls that did not end
    /// within the bound, or in tracked tasks (`not_purged`); `tasks` names
    /// each task as `#3 ticker (hello v1)`.
    case notPurged(module: String, pids: [String], calls: Int = 0, tasks: [String] = [])
    /// The module is sticky and the load was not forced (`sticky_directory`).
    case sticky(module: String)
    /// The on-load hook threw (`on_load_failure`).
    case onLoadFailure(module: String, message: String)
    /// The node holds version `version` of `module` (current or old) built
    /// from other sources: one number must name one build.
    case versionTaken(module: String, version: Int, loadedKey: String, key: String)
    /// The trial load in a throwaway process failed or crashed; `code` is
    /// the child's own verdict (`mismatch`, `onLoadFailure`...) or `badFile`.
    case trialFailed(path: String, reason: String, code: ErrorCode)
    /// The trial load did not end within its deadline and was killed.
    case trialTimedOut(path: String, after: Duration)
    /// A live typed handle of the host calls export `export` of `module` as
    /// `host`, and version `version` lacks it (`found` nil) or has it as
    /// `found`; `keeps` is the version the node keeps current.
    case exportType(module: String, version: Int, export: String, host: String, found: String?, keeps: Int)
    /// The node died while loading this build before (its entry, on-load
    /// hook or initializers crashed the node, not the trial); it stays
    /// refused until a forced load.
    case diedInLoad(DeathInLoad)

    public var description: String {
        switch self {
        case .noFile(let what): "no such file or module version: \(what)"
        case .badFile(let path, let reason): "\(path) is not a loadable hot module: \(reason)"
        case .mismatch(let field, let expected, let found):
            "module built for \(field) \(found), but this node has \(field) \(expected); rebuild it with this node's hot"
        case .hostMismatch(let module, let expected, let found):
            "module '\(module)' was built against another build of the host (\(found.prefix(16))), not the one this node runs (\(expected.map { String($0.prefix(16)) } ?? "unreadable")): restart the host if it was rebuilt since it started (it boots its built-in versions), else `hot deploy` builds the module for the build that runs"
        case .notPurged(let module, let pids, let calls, let tasks):
            "old code of '\(module)' still runs in \(Self.runners(pids, calls, tasks)); let them end or switch, or stop them (hot purge \(module), or hot deploy --purge)"
        case .sticky(let module): "module '\(module)' is sticky; reload it with --force"
        case .onLoadFailure(let module, let message): "on-load hook of '\(module)' failed: \(message)"
        case .versionTaken(let module, let version, let loadedKey, let key):
            "\(module) v\(version) is loaded here with key \(loadedKey.prefix(12)); this object is v\(version) with key \(key.prefix(12)); one version number cannot name two builds: build it again so that it gets a new number"
        case .trialFailed(let path, let reason, _): "\(lastPathComponent(path)) was refused by its trial load: \(reason)"
        case .trialTimedOut(let path, let after):
            "the trial load of \(lastPathComponent(path)) did not finish in \(after.shortDescription) (a constructor or on-load hook that never returns?); it was killed"
        case .exportType(let module, let version, let export, let host, let found, let keeps):
            (found.map { "\(module) v\(version): export '\(export)' is \($0), the host calls it as \(host)" }
                ?? "\(module) v\(version): no export '\(export)', which the host calls as \(host)")
                + "; the node keeps v\(keeps)"
                + ": export it with that type, or change the host's handle and restart the host"
        case .diedInLoad(let death):
            "the node died while loading \(death.module) v\(death.version) (key \(death.key.prefix(12))) on \(death.date); load it with --force (hot deploy --force) to try again"
        }
    }

    /// "<0.7.0>, <0.8.0>, 3 calls in flight, tracked task #4 ticker (hello v1)".
    private static func runners(_ pids: [String], _ calls: Int, _ tasks: [String]) -> String {
        let callText = calls == 0 ? nil : "\(calls) call\(calls == 1 ? "" : "s") in flight"
        return (pids + [callText].compactMap { $0 } + tasks.map { "tracked task \($0)" }).joined(separator: ", ")
    }

    /// The wire code for this error.
    public var code: ErrorCode {
        switch self {
        case .noFile: .noFile
        case .badFile: .badFile
        case .mismatch, .hostMismatch, .exportType: .mismatch
        case .notPurged: .notPurged
        case .sticky: .sticky
        case .onLoadFailure: .onLoadFailure
        case .versionTaken: .badFile
        case .trialFailed(_, _, let code): code
        case .trialTimedOut, .diedInLoad: .badFile
        }
    }
}
