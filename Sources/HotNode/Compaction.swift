#if canImport(Glibc)
import Glibc
#endif
import CHotPlatform
import Hot
import HotPlatform
import HotWire

/// Why a node did not compact. Until the exec, a refusal leaves the node as
/// it was: serving, its servers running, its listeners accepting.
public enum CompactionRefusal: Error, Sendable, CustomStringConvertible {
    /// The node runs inside a server that embeds it: only `hotnode`
    /// re-executes itself (docs/EMBEDDING.md, "Compaction").
    case notSupported
    /// A compaction is under way already.
    case busy(String)
    /// Plain processes run, and cannot cross an exec.
    case plainProcesses([Pid])
    /// Plain processes told to stop (`purge`) that did not.
    case stubborn([Pid])
    /// Tracked tasks run (`#3 ticker (hello v1)`), and cannot cross an exec.
    case trackedTasks([String])
    /// Tracked tasks cancelled (`purge`) that did not end.
    case unendedTasks([String])
    /// A server still runs an old version (its code change failed).
    case serverInOldCode(pid: Pid, module: String, version: Int)
    /// A server whose state could not be encoded, or decoded back.
    case serverState(pid: Pid, reason: String)
    /// A carried server the new process could not start again.
    case serverLost(pid: Pid, reason: String)
    /// The exec itself failed; the old process goes on.
    case exec(SystemError)

    public var description: String {
        switch self {
        case .notSupported:
            "this node runs inside a server that embeds it; compaction re-executes the process, which only hotnode does (docs/EMBEDDING.md, \"Compaction\")"
        case .busy(let reason): "not compacted: \(reason)"
        case .plainProcesses(let pids):
            "not compacted: plain processes cannot cross a compaction and \(pids.count) run\(pids.count == 1 ? "s" : ""): \(pids.map(\.description).joined(separator: " ")); stop them, or compact with --purge to stop them first"
        case .stubborn(let pids):
            "not compacted: processes told to stop still run: \(pids.map(\.description).joined(separator: " "))"
        case .trackedTasks(let tasks):
            "not compacted: tracked tasks cannot cross a compaction and \(tasks.count) run\(tasks.count == 1 ? "s" : ""): \(tasks.joined(separator: ", ")); stop them, or compact with --purge to cancel them first (an on-load hook starts its tasks again in the new process)"
        case .unendedTasks(let tasks):
            "not compacted: tracked tasks told to stop still run: \(tasks.joined(separator: ", "))"
        case .serverInOldCode(let pid, let module, let version):
            "not compacted: server \(pid) still runs \(module) v\(version), which is no longer current (its code change failed)"
        case .serverState(let pid, let reason): "not compacted: server \(pid) cannot hand over its state: \(reason)"
        case .serverLost(let pid, let reason): "server \(pid) did not cross the compaction: \(reason)"
        case .exec(let error): "not compacted: \(error)"
        }
    }

    var code: ErrorCode {
        switch self {
        case .plainProcesses, .stubborn, .trackedTasks, .unendedTasks, .serverInOldCode, .serverState, .serverLost: .process
        case .notSupported, .busy, .exec: .failed
        }
    }
}

/// A server's pid, name, version and state, as it crosses a compaction.
struct CarriedServer: Codable, Sendable {
    var pid: UInt64
    var name: String?
    var module: String
    /// The server's name in its module (`ServerSpec.name`).
    var server: String
    var version: Int
    var state: Term
}

/// What the old process hands the new one: everything the new one must
/// take over, and the figures of the record it keeps. It travels in an
/// anonymous file (`memfd_create`) the exec inherits, named by
/// `HOT_COMPACTION_FD`; nothing of it is left on disk, so a node restarted
/// by its supervisor after a crash cannot find a stale one.
struct CompactionHandoff: Codable, Sendable {
    struct Module: Codable, Sendable {
        var name: String
        var version: Int
        var path: String
    }

    struct Listening: Codable, Sendable {
        /// The address the node was told to listen on (its flag).
        var configured: String
        /// The address bound (a TCP port 0 made concrete).
        var bound: String
        var descriptor: Int32
    }

    var trigger: String
    /// CLOCK_MONOTONIC when the old process stopped accepting: the clock is
    /// the machine's, so the new process measures the pause on it.
    var pausedAt: Double
    var versionsBefore: Int
    var residentBefore: Int
    var mappingsBefore: Int
    var modules: [Module]
    var servers: [CarriedServer]
    /// What modules keep across reloads (`Kept`): restored before any
    /// module's code runs in the new process.
    var kept: [KeptValue]
    var nextPid: UInt64
    var listeners: [Listening]

    static let variable = "HOT_COMPACTION_FD"

    /// Writes the handoff into an inheritable anonymous file and re-executes
    /// this process's own executable with `arguments`; returns only when
    /// the exec failed, having taken back what it set up.
    func exec(arguments: [String]) -> SystemError {
        let bytes = TermCodec.encode(term)
        let number = hot_memfd_inherited("hot-compaction")
        guard number >= 0 else { return SystemError("memfd_create") }
        let handoff = Descriptor(taking: number)
        let fd = handoff.number
        guard writeAll(fd, bytes), lseek(fd, 0, SEEK_SET) == 0 else {
            return SystemError("write the compaction handoff")
        }
        setenv(Self.variable, "\(fd)", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        // /proc/self/exe is this process's executable even if its file was
        // replaced or removed since: the modules bind to this build's SDK.
        execv("/proc/self/exe", &argv)
        let error = SystemError("execv /proc/self/exe")
        for pointer in argv { free(pointer) }
        unsetenv(Self.variable)
        return error
    }

    private var term: Term {
        do { return try TermEncoder().encode(self) } catch {
            preconditionFailure("a compaction handoff did not encode: \(error)")
        }
    }

    /// The handoff this process inherited, if it is a compacted node: read,
    /// its descriptor closed and its variable removed (a trial child must
    /// not see it). Throws when one was announced but cannot be read.
    static func takeInherited() throws(SystemError) -> CompactionHandoff? {
        guard let text = getenv(variable).map({ String(cString: $0) }) else { return nil }
        unsetenv(variable)
        guard let number = Int32(text), number >= 0 else { throw SystemError("\(variable)=\(text) names no descriptor", errno: .invalidArgument) }
        let handoff = Descriptor(taking: number)
        let fd = handoff.number
        guard lseek(fd, 0, SEEK_SET) == 0, let bytes = readAll(fd) else { throw SystemError("read the compaction handoff") }
        do {
            // The handoff holds servers' states, as deep as they are.
            let term = try TermCodec.decode(bytes, maxDepth: 1 << 16)
            return try TermDecoder().decode(CompactionHandoff.self, from: term)
        } catch {
            throw SystemError("the compaction handoff does not decode: \(error)", errno: .invalidArgument)
        }
    }
}
