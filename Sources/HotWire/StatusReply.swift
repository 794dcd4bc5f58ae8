import Hot

/// The reply to `status`, and the document `hot status --json` prints: the
/// node, each module's current and old version and what it keeps, the
/// processes and the tracked tasks.
public struct StatusReply: ReplyDocument {
    public static let request = "status"
    /// The node's name.
    public var node: String
    /// The node's operating-system process id.
    public var pid: Int
    /// The fingerprint of the executable the node runs in (its GNU
    /// build-id, `HostFingerprint`): what a module compiled against this
    /// host must carry; absent from nodes that predate it.
    public var host: String?
    /// `interactive` or `embedded`.
    public var mode: String
    public var modules: [Module]
    public var processes: [Process]
    /// The tracked tasks (`Tasks.start`), by number; absent from nodes that predate them.
    public var tasks: [TrackedTask]?
    /// Bytes of versions kept mapped though no longer current or old
    /// (docs/ARCHITECTURE.md, "Retained for the node's life").
    public var retainedBytes: Int
    /// Builds the node died loading and refuses until a forced load; absent
    /// when there are none (and from nodes that predate it).
    public var refused: [Refused]?
    /// Versions mapped in the process: every distinct version loaded since it
    /// started, whatever became of it; absent from nodes that predate it.
    public var mappedVersions: Int?
    /// The last compaction of this process; absent when it never compacted.
    public var lastCompaction: Compaction?
    /// Set when the node's supervisor died and nothing restarts the node
    /// any more; absent for a supervised node, an unsupervised one, and nodes that predate it.
    public var unsupervised: Unsupervised?

    public init(node: String, pid: Int, host: String? = nil, mode: String, modules: [Module], processes: [Process], retainedBytes: Int,
                refused: [Refused]? = nil, mappedVersions: Int? = nil, lastCompaction: Compaction? = nil, tasks: [TrackedTask]? = nil,
                unsupervised: Unsupervised? = nil) {
        self.unsupervised = unsupervised
        self.tasks = tasks
        self.refused = refused
        self.mappedVersions = mappedVersions
        self.lastCompaction = lastCompaction
        self.node = node
        self.pid = pid
        self.host = host
        self.mode = mode
        self.modules = modules
        self.processes = processes
        self.retainedBytes = retainedBytes
    }

    /// A supervisor that died (killed with SIGKILL, say) and left its node running.
    public struct Unsupervised: Codable, Sendable, Equatable, CustomStringConvertible {
        /// The supervisor's process id.
        public var supervisorPid: Int
        /// When the node saw it gone (seconds since the epoch).
        public var diedAt: Double

        public init(supervisorPid: Int, diedAt: Double) {
            self.supervisorPid = supervisorPid
            self.diedAt = diedAt
        }

        /// The one line `hot status` and `hot start` print.
        public var description: String {
            "unsupervised: the supervisor (pid \(supervisorPid)) died; restart with `hot stop && hot start`"
        }
    }

    /// A build the node died loading.
    public struct Refused: Codable, Sendable, Equatable {
        public var module: String
        public var version: Int
        /// Its content key, or the first digits of it that its file name carries.
        public var key: String
        /// The object's file name.
        public var file: String
        /// When the restarted node found it had died there (seconds since the epoch).
        public var diedAt: Double

        public init(module: String, version: Int, key: String, file: String, diedAt: Double) {
            self.module = module
            self.version = version
            self.key = key
            self.file = file
            self.diedAt = diedAt
        }

        /// Whether this is `module` v`version` with `key` (either key may be the other's first digits).
        public func names(_ module: String, version: Int, key: String) -> Bool {
            self.module == module && self.version == version && (self.key.hasPrefix(key) || key.hasPrefix(self.key))
        }
    }

    /// A compaction (docs/ARCHITECTURE.md, "Compaction"): the process
    /// re-executed itself with only its current versions mapped.
    public struct Compaction: Codable, Sendable, Equatable {
        /// When the new process was serving again (seconds since the epoch).
        public var at: Double
        /// `request` (`hot compact`) or `threshold` (hot.json's `compact`).
        public var trigger: String
        /// From the moment the node stopped accepting to the moment the new
        /// process listened again, in milliseconds: how long a client waited.
        public var pausedMilliseconds: Double
        /// Versions mapped before and after.
        public var versionsBefore: Int
        public var versionsAfter: Int
        /// Resident bytes before, and once the new process booted.
        public var residentBefore: Int
        public var residentAfter: Int
        /// Lines of /proc/PID/maps before and after.
        public var mappingsBefore: Int
        public var mappingsAfter: Int
        /// The servers whose state crossed (pid strings).
        public var servers: [String]

        public init(at: Double, trigger: String, pausedMilliseconds: Double, versionsBefore: Int, versionsAfter: Int,
                    residentBefore: Int, residentAfter: Int, mappingsBefore: Int, mappingsAfter: Int, servers: [String]) {
            self.at = at
            self.trigger = trigger
            self.pausedMilliseconds = pausedMilliseconds
            self.versionsBefore = versionsBefore
            self.versionsAfter = versionsAfter
            self.residentBefore = residentBefore
            self.residentAfter = residentAfter
            self.mappingsBefore = mappingsBefore
            self.mappingsAfter = mappingsAfter
            self.servers = servers
        }
    }

    /// One module: its current and old versions.
    public struct Module: Codable, Sendable, Equatable {
        public var name: String
        /// Nil once the module is deleted.
        @Nullable public var current: Current?
        @Nullable public var old: Old?
        /// A sticky module reloads only when forced.
        public var sticky: Bool
        /// The version a restart boots; nil when none is recorded.
        @Nullable public var permanent: Int?
        /// The keys the node keeps for the module across reloads (`Kept`),
        /// sorted; absent when it keeps none (and from nodes that predate it).
        public var kept: [KeptKey]?
        /// True when the host's executable links a built-in version of the
        /// module (version 0, docs/ARCHITECTURE.md, "Built-in versions");
        /// absent otherwise.
        public var builtIn: Bool?

        public init(name: String, current: Current?, old: Old?, sticky: Bool, permanent: Int?, kept: [KeptKey]? = nil,
                    builtIn: Bool? = nil) {
            self.kept = kept
            self.builtIn = builtIn
            self.name = name
            self.current = current
            self.old = old
            self.sticky = sticky
            self.permanent = permanent
        }
    }

    /// The version calls reach.
    public struct Current: Codable, Sendable, Equatable {
        public var version: Int
        /// The content key of the build.
        public var key: String
        /// The commit it was built from (`+dirty` when the tree had changes); nil when unknown.
        @Nullable public var commit: String?
        /// Seconds since the epoch.
        public var loadedAt: Double
        /// The object's file name.
        public var file: String
        /// The object's size.
        public var bytes: Int
        /// Export names, sorted.
        public var exports: [String]
        /// Async calls running in it now; absent from nodes that predate it.
        public var calls: Int?
        /// Tracked tasks it started that still run; absent from nodes that predate them.
        public var tasks: Int?

        public init(version: Int, key: String, commit: String?, loadedAt: Double, file: String, bytes: Int, exports: [String],
                    calls: Int? = nil, tasks: Int? = nil) {
            self.calls = calls
            self.tasks = tasks
            self.version = version
            self.key = key
            self.commit = commit
            self.loadedAt = loadedAt
            self.file = file
            self.bytes = bytes
            self.exports = exports
        }
    }

    /// The version before, still loaded while processes run in it.
    public struct Old: Codable, Sendable, Equatable {
        public var version: Int
        /// How many processes run in it.
        public var processes: Int
        public var key: String
        /// Async calls still running in it; absent from nodes that predate it.
        public var calls: Int?
        /// Tracked tasks it started that still run: they keep it from being
        /// dropped, as processes do; absent from nodes that predate them.
        public var tasks: Int?

        public init(version: Int, processes: Int, key: String, calls: Int? = nil, tasks: Int? = nil) {
            self.calls = calls
            self.tasks = tasks
            self.version = version
            self.processes = processes
            self.key = key
        }
    }

    /// One process.
    public struct Process: Codable, Sendable, Equatable {
        /// Printed (`<0.7.0>`).
        public var pid: String
        /// Its registered name, if any.
        @Nullable public var name: String?
        public var module: String
        /// The version it runs.
        public var version: Int
        public var code: Code
        /// The function it runs, or `server:NAME` for a server.
        public var function: String

        /// Whether a process runs its module's current version or the old one.
        public enum Code: String, Codable, Sendable {
            case current, old
        }

        public init(pid: String, name: String?, module: String, version: Int, code: Code, function: String) {
            self.pid = pid
            self.name = name
            self.module = module
            self.version = version
            self.code = code
            self.function = function
        }
    }

    /// One key a module keeps (`Kept`), and the size of its term in the
    /// wire's encoding.
    public struct KeptKey: Codable, Sendable, Equatable {
        public var key: String
        public var bytes: Int

        public init(key: String, bytes: Int) {
            self.key = key
            self.bytes = bytes
        }
    }

    /// One tracked task (`Tasks.start`): what started it, and where.
    public struct TrackedTask: Codable, Sendable, Equatable {
        /// The node's number for it (`#3`).
        public var id: Int
        /// The label it was started with.
        public var label: String
        /// The module and version whose code started it.
        public var module: String
        public var version: Int
        /// Whether that version is its module's current one or not.
        public var code: Process.Code
        /// The file (`ticker.swift`, from `#fileID`) and line of the start call.
        public var file: String
        public var line: Int
        /// When it started (seconds since the epoch).
        public var startedAt: Double
        /// `untilPurged` or `whileCurrent` (`TaskLifetime`): whether a load
        /// that makes its version old cancels it.
        public var lifetime: String

        public init(
            id: Int, label: String, module: String, version: Int, code: Process.Code, file: String, line: Int, startedAt: Double,
            lifetime: String
        ) {
            self.lifetime = lifetime
            self.id = id
            self.label = label
            self.module = module
            self.version = version
            self.code = code
            self.file = file
            self.line = line
            self.startedAt = startedAt
        }
    }
}
