#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject
import HotWire

/// What a node needs to run: its name, addresses, cookie, state folder, code
/// path, mode, sticky modules, pid file and trial deadline. `hotnode` reads
/// one from its flags (`init(arguments:)`); a server that embeds a node in a
/// Hot project takes the one `hot start` would use (`project(root:node:)`).
public struct NodeConfiguration: Sendable, Equatable {
    /// The node as `hotnode`'s flags say it: the one home of its fields,
    /// which the properties below read and write.
    public var flags: NodeFlags
    /// The project the node belongs to, for a node made by `project(root:node:)`:
    /// its `.hot/` is made owner-only and its cookie made when missing, as
    /// `hot start` does. Nil for a node told every path.
    public var project: ProjectLayout?
    /// An in-process node (docs/EMBEDDING.md, "Testing a host in-process"):
    /// a node inside a process that is not the project's host, a test
    /// bundle above all. It listens nowhere and writes no pid file, keeps its
    /// state in a temporary folder removed at stop, runs no trial loads (a
    /// trial re-runs this executable) and loads no object built for the host
    /// unless told (`NodeHost.loadForTesting`); its built-in versions boot
    /// as in the host. `listen`, `pidFile`, `state` and `codePath` are unused.
    public var inProcess = false
    /// Why the node runs in-process, for the one line it logs at start.
    public var inProcessReason = "its configuration says so"
    /// The fleet coordinated through etcd this node follows, if any
    /// (docs/FLEETS.md, "An embedded node"): `NodeHost.start` runs its
    /// follower, which `stop` ends. An in-process node never follows one.
    public var fleet: FleetSettings?

    /// The name announced in every handshake.
    public var name: String { get { flags.name } set { flags.name = newValue } }
    /// Where the node listens for control connections (`unix:PATH`, `tcp://HOST:PORT`).
    public var listen: [NodeAddress] { get { flags.listen } set { flags.listen = newValue } }
    /// The file holding the cookie clients must prove.
    public var cookieFile: String { get { flags.cookieFile } set { flags.cookieFile = newValue } }
    /// The state folder: staged objects, the permanent set, the load journal.
    public var state: String { get { flags.state } set { flags.state = newValue } }
    /// Where boot and interactive mode find built versions.
    public var codePath: String? { get { flags.codePath } set { flags.codePath = newValue } }
    /// Interactive (load a module on its first call) or embedded.
    public var mode: Node.Mode { get { flags.mode } set { flags.mode = newValue } }
    /// Modules that refuse reload unless forced.
    public var sticky: Set<String> { get { Set(flags.sticky) } set { flags.sticky = newValue.sorted() } }
    /// A file that holds the process id while the node runs.
    public var pidFile: String? { get { flags.pidFile } set { flags.pidFile = newValue } }
    /// How long a new object's trial load may run before it is refused.
    public var trialTimeout: Duration {
        get { flags.trialTimeout ?? TrialLoad.defaultTimeout }
        set { flags.trialTimeout = newValue }
    }
    /// When the node compacts by itself (docs/ARCHITECTURE.md, "Compaction");
    /// never, by default.
    public var compaction: CompactionThreshold { get { flags.compaction } set { flags.compaction = newValue } }

    /// A node told every path.
    public init(name: String, listen: [NodeAddress], cookieFile: String, state: String, codePath: String? = nil,
                mode: Node.Mode = .interactive, sticky: Set<String> = [], pidFile: String? = nil,
                trialTimeout: Duration = TrialLoad.defaultTimeout) {
        flags = NodeFlags(
            name: name, listen: listen, cookieFile: cookieFile, state: state, codePath: codePath, mode: mode,
            sticky: sticky.sorted(), pidFile: pidFile, trialTimeout: trialTimeout)
    }

    /// The node the flags describe; no project (`project` is nil).
    public init(flags: NodeFlags) {
        self.flags = flags
    }

    /// An in-process node named `name` (see `inProcess`), with `sticky` modules; it follows no fleet.
    public static func inProcess(name: String, sticky: Set<String> = []) -> NodeConfiguration {
        var configuration = NodeConfiguration(name: name, listen: [], cookieFile: "", state: "", sticky: sticky)
        configuration.inProcess = true
        return configuration
    }

    /// The environment variable naming a project's root, for a server started
    /// outside its project folder.
    public static let projectVariable = "HOT_PROJECT"

    /// The node `hot start` would run for a project, so that `hot deploy`,
    /// `hot status`, `hot call` and `hot rollback` reach it unchanged: it
    /// listens on `.hot/node.sock`, proves `.hot/cookie`, keeps its state in
    /// `.hot/node/`, boots from `.hot/build`, writes `.hot/node.pid`, is named
    /// like the project and treats hot.json's `sticky` modules as sticky.
    /// `node` names a further local node (`.hot/nodes/NAME/`). hot.json's
    /// `fleet`, with `HOT_ETCD`, `HOT_FLEET` and `HOT_FLEET_NODE` over it,
    /// is the fleet it follows, if any (`fleet`). The project is
    /// `root`, else `HOT_PROJECT`, else the nearest folder holding hot.json
    /// from the working directory up.
    ///
    /// Run by a test bundle (an executable named `*.xctest`, as `swift test`
    /// builds), the node is an in-process one (`inProcess`), so that the
    /// app's tests neither bind the running app's socket nor re-run
    /// themselves in trials. Only a test bundle: a host copied under another
    /// name (into a container image, say) stays the node `hot` reaches.
    public static func project(root: String? = nil, node: String? = nil) throws(ProjectFailure) -> NodeConfiguration {
        try project(root: root, node: node, executable: realPath("/proc/self/exe") ?? "")
    }

    /// `project(root:node:)` as run by `executable`, with `environment`'s fleet variables.
    static func project(
        root: String?, node: String?, executable: String, environment: [String: String] = fleetEnvironment()
    ) throws(ProjectFailure) -> NodeConfiguration {
        let folder: String
        if let root {
            folder = root
        } else if let variable = getenv(projectVariable) {
            folder = String(cString: variable)
        } else {
            guard let found = ProjectLayout.findRoot(from: currentDirectory()) else {
                throw .notFound(from: currentDirectory())
            }
            folder = found
        }
        let config: ProjectConfig
        do {
            config = try ProjectConfig.read(root: folder)
        } catch {
            switch error {
            case .missing: throw .notFound(from: folder)
            case .badConfig(let path, let reason): throw .badConfig(path: path, reason: reason)
            }
        }
        let layout = ProjectLayout(root: absolutePath(folder), name: config.name)
        var configuration = NodeConfiguration(flags: NodeFlags(project: layout, config: config, node: node))
        configuration.project = layout
        configuration.fleet = try fleet(config.fleet, environment: environment)
        if configuration.fleet != nil { configuration.flags.followFleet() }
        if let reason = testBundle(executable) {
            configuration = .inProcess(name: configuration.name, sticky: configuration.sticky)
            configuration.project = layout
            configuration.inProcessReason = reason
        }
        return configuration
    }

    // The fleet variables set hot.json's `fleet`, or override its fields,
    // for a machine whose etcd or names the project cannot know (a
    // container image holds one hot.json for every environment).
    /// etcd's members, comma-separated, over hot.json's `fleet.etcd`.
    public static let etcdVariable = "HOT_ETCD"
    /// The fleet's name, over hot.json's `fleet.name`.
    public static let fleetVariable = "HOT_FLEET"
    /// The node's name in the fleet, over hot.json's `fleet.node`.
    public static let fleetNodeVariable = "HOT_FLEET_NODE"

    /// This process's values of the fleet variables.
    static func fleetEnvironment() -> [String: String] {
        [etcdVariable, fleetVariable, fleetNodeVariable].reduce(into: [:]) { found, name in
            if let value = getenv(name) { found[name] = String(cString: value) }
        }
    }

    /// hot.json's `fleet` with the fleet variables of `environment` over
    /// it; nil when neither names a fleet.
    static func fleet(_ settings: FleetSettings?, environment: [String: String]) throws(ProjectFailure) -> FleetSettings? {
        let etcd = environment[etcdVariable].map { $0.split(separator: ",").map(String.init) }
        let name = environment[fleetVariable]
        let node = environment[fleetNodeVariable]
        if settings == nil && etcd == nil && name == nil && node == nil { return nil }
        guard let members = etcd ?? settings?.etcd, let fleetName = name ?? settings?.name else {
            let missing = etcd == nil && settings == nil ? etcdVariable : fleetVariable
            throw .badEnvironment(reason: "\(missing) is not set: a fleet to follow needs etcd's members and its name (\(etcdVariable) and \(fleetVariable), or hot.json's \"fleet\")")
        }
        let merged = FleetSettings(etcd: members, name: fleetName, node: node ?? settings?.node)
        // hot.json's own fields were checked as it was read: what is wrong came from the environment.
        if let problem = merged.problem { throw .badEnvironment(reason: "\(problem), as \(etcdVariable), \(fleetVariable) and \(fleetNodeVariable) set it") }
        return merged
    }

    /// Why `executable` runs its project's node in-process, or nil when it
    /// does not: it is a test bundle, not the project's host.
    static func testBundle(_ executable: String) -> String? {
        let name = lastPathComponent(executable)
        return name.hasSuffix(".xctest") ? "\(name) is a test bundle, not the project's host" : nil
    }

    /// Why a project's node could not be configured.
    public enum ProjectFailure: Error, Sendable, Equatable, CustomStringConvertible {
        /// No hot.json in the folder or above it.
        case notFound(from: String)
        /// hot.json cannot be read, or lacks a name.
        case badConfig(path: String, reason: String)
        /// The fleet variables (`HOT_ETCD`, `HOT_FLEET`, `HOT_FLEET_NODE`) make no fleet to follow.
        case badEnvironment(reason: String)

        public var description: String {
            switch self {
            case .notFound(let from):
                "no hot.json in \(from) or any folder above it; run the server in its Hot project, or set \(NodeConfiguration.projectVariable)"
            case .badConfig(let path, let reason): "\(path): \(reason)"
            case .badEnvironment(let reason): reason
            }
        }
    }
}
