#if canImport(Glibc)
import Glibc
#endif
import HotBuild
import HotDeploy
import Hot
import HotPlatform
import HotProject
import HotWire

/// The project of the current folder, or a usage-level failure explaining how to get one.
func currentProject() throws(CommandError) -> Project {
    do {
        return try Project.find(from: currentDirectory())
    } catch {
        throw .failed(error.description)
    }
}

/// How long a command waits for another one writing the same project's
/// builds: HOT_LOCK_TIMEOUT seconds, or five minutes (a cold release build
/// of many modules).
private func lockTimeout() -> Duration {
    .seconds(getenv("HOT_LOCK_TIMEOUT").flatMap { Double(String(cString: $0)) }.map { max(0, $0) } ?? 300)
}

/// Takes the project's writer lock, for a command that builds: says once on
/// stderr that it waits, and fails when the wait is over.
func lockProject(_ project: Project) throws(CommandError) -> ProjectLock {
    try lockProject(project.layout)
}

/// Takes the writer lock of the project laid out as `layout` (it may have no hot.json yet).
func lockProject(_ layout: ProjectLayout) throws(CommandError) -> ProjectLock {
    do throws(ProjectLock.Failure) {
        return try ProjectLock.acquire(layout, timeout: lockTimeout()) { holder in
            printError("waiting for another hot command\(holder.map { " (pid \($0))" } ?? "") to finish writing this project's builds")
        }
    } catch {
        throw .failed(error.description)
    }
}

/// A node a command talks to.
struct NodeTarget: Sendable {
    let name: String
    let address: NodeAddress
    let cookieFile: String
}

/// Which nodes a command was told to reach: `--node` (names from hot.json,
/// or addresses), a nodes file and its group, and the cookie file.
struct NodeSelection: Sendable {
    var names: [String] = []
    var nodesFile: String?
    var group: String?
    var cookieFile: String?

    init(names: [String] = [], nodesFile: String? = nil, group: String? = nil, cookieFile: String? = nil) {
        self.names = names
        self.nodesFile = nodesFile
        self.group = group
        self.cookieFile = cookieFile
    }

    /// The selection of a command that declares `Option.nodeOptions`.
    init(_ args: ParsedArguments) {
        self.init(names: args.all(.node), nodesFile: args.value(.nodes), group: args.value(.group), cookieFile: args.value(.cookieFile))
    }
}

/// The nodes a selection names, or the project's local node when it names none.
func resolveNodes(_ selection: NodeSelection, project: Project?) throws(CommandError) -> [NodeTarget] {
    let explicitCookie = selection.cookieFile ?? getenv("HOT_COOKIE_FILE").map { String(cString: $0) }
    func cookie() throws(CommandError) -> String {
        if let explicitCookie { return explicitCookie }
        if let project { return project.cookiePath }
        throw .usage(.missingValue(option: Option.cookieFile.name))
    }
    var names = selection.names
    var inventory: Inventory?
    if let file = selection.nodesFile {
        do { inventory = try Inventory.load(file) } catch { throw .failed(error.description) }
        if let group = selection.group {
            guard let members = inventory?.groups[group] else {
                throw .usage(.invalidValue(option: Option.group.name, value: group, reason: "no such group in \(file)"))
            }
            names += members
        } else {
            names += inventory?.nodes.keys.sorted() ?? []
        }
    }
    if names.isEmpty {
        guard let project else { throw .failed("not in a hot project: name a node with --node ADDRESS") }
        return [NodeTarget(name: project.config.name, address: .unix(path: project.socketPath), cookieFile: try cookie())]
    }
    var targets: [NodeTarget] = []
    for name in names {
        if let address = inventory?.nodes[name] {
            targets.append(NodeTarget(name: name, address: address, cookieFile: try cookie()))
        } else if let project, let text = project.config.nodes[name] {
            guard let address = NodeAddress(parsing: text) else {
                throw .failed("hot.json: node '\(name)' has a bad address '\(text)'; use unix:PATH or tcp://HOST:PORT")
            }
            targets.append(NodeTarget(name: name, address: address, cookieFile: try cookie()))
        } else if let project, name == project.config.name || fileExists(project.localNode(name).socket) {
            targets.append(NodeTarget(name: name, address: .unix(path: project.localNode(name).socket), cookieFile: try cookie()))
        } else if let address = NodeAddress(parsing: name) {
            targets.append(NodeTarget(name: name, address: address, cookieFile: try cookie()))
        } else {
            throw .usage(.invalidValue(option: Option.node.name, value: name, reason: "not a node in hot.json, nor unix:PATH or tcp://HOST:PORT"))
        }
    }
    return targets
}

/// Connects to a node, mapping failures to the contract's statuses.
func connect(_ target: NodeTarget) throws(CommandError) -> NodeClient {
    do {
        return try NodeClient(address: target.address, cookieFile: target.cookieFile)
    } catch {
        throw clientFailure(error)
    }
}

/// The status a client error maps to: 3 when the node is out of reach.
func clientFailure(_ error: ClientError) -> CommandError {
    error.isUnreachable ? .unreachable(error.description) : .failed(error.description)
}

/// Prints a term as JSON on stdout.
func printJSON(_ term: Term, pretty: Bool = true) {
    print(JSON.render(term, pretty: pretty))
}
