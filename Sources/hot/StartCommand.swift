#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPlatform
import HotProject
import HotWire

/// `hot start`.
let startCommand = Command(
    name: "start", summary: "build, then start the project's node in the background",
    usage: "start [--node NAME] [--listen ADDRESS] [--mode interactive|embedded] [--foreground] [--etcd URL[,URL...] --fleet NAME]",
    details: """
        Starts hotnode for this project: it listens on .hot/node.sock, proves .hot/cookie
        (made owner-only on first start), keeps its state in .hot/node/ and its log in
        .hot/node.log. It boots its permanent versions, and the newest build of every other
        module. With --node NAME, a further local node of that name, in .hot/nodes/NAME/; it
        also listens on the address hot.json's "nodes" gives NAME, or on --listen.
        In the background the node runs under a supervisor (hotnode --supervise, its pid in
        supervisor.pid beside node.pid) that starts it again when it dies; if it died while
        loading a version, the restarted node refuses that build until a deploy with --force.
        With --etcd and --fleet, the node follows that fleet (`hot fleet follow` runs beside it,
        its log in follower.log): it stages and runs what the fleet's rollouts commit, and a node
        that joins later runs the fleet's committed release: hot start returns once it does
        (docs/FLEETS.md).
        """,
    options: [.startNode, .listen, .mode, .foreground, .etcd, .fleet],
    arguments: 0...0
) { (args) throws(CommandError) in
    let project = try currentProject()
    if let name = args.value(.startNode), !HotSDK.isValidModuleName(name.replacing("-", with: "_")) {
        throw .usage(.invalidValue(option: Option.startNode.name, value: name, reason: "use letters, digits, - and _"))
    }
    let local = project.localNode(args.value(.startNode))
    let address = NodeAddress.unix(path: local.socket)
    if let running = try? NodeClient(address: address, cookieFile: project.cookiePath) {
        // A node whose supervisor died is refused, not reported running:
        // started again beside it, two nodes would share one state folder.
        if let unsupervised = (try? running.request(.status))?.unsupervised {
            throw .failed("node \(local.name) is running on \(address) but \(unsupervised.description)")
        }
        print("node \(local.name) is already running on \(address)")
        return
    }
    if let host = project.config.host, local.name == project.config.name {
        // hotnode lacks the host's libraries: every module would be refused.
        let configuration = host.configuration == .release ? " -c release" : ""
        throw .failed(
            "this project's node is its host \(host.product) (hot.json \"host\"): run it instead of hotnode, e.g. `swift build --product \(host.product)\(configuration)` in \(host.package), then start .build/\(host.configuration.rawValue)/\(host.product)")
    }
    var alsoListen: [NodeAddress] = []
    if let extra = args.value(.listen) ?? (local.name == project.config.name ? nil : project.config.nodes[local.name]) {
        guard let parsed = NodeAddress(parsing: extra) else {
            throw .usage(.invalidValue(option: Option.listen.name, value: extra, reason: "use tcp://HOST:PORT or unix:PATH"))
        }
        alsoListen.append(parsed)
    }
    var mode = NodeMode.interactive
    if let text = args.value(.mode) {
        guard let given = NodeMode(rawValue: text) else {
            throw .usage(.invalidValue(option: Option.mode.name, value: text, reason: "interactive or embedded"))
        }
        mode = given
    }
    do {
        let lock = try lockProject(project)
        defer { lock.release() }
        _ = try runBuild(project, BuildOptions(), quiet: false)
    }
    do throws(Cookie.Failure) { _ = try Cookie.create(path: project.cookiePath) } catch { throw .failed(error.description) }
    if args.value(.etcd) != nil || args.value(.fleet) != nil {
        // Checked before the node starts: a bad --etcd is a usage error, not a node without its fleet.
        _ = try fleetStore(args, cookieFile: project.cookiePath)
        if args.has(.foreground) { throw .usage(.invalidValue(option: Option.etcd.name, value: args.value(.etcd) ?? "", reason: "not with --foreground: run hot fleet follow beside the node")) }
    }
    do throws(SystemError) {
        try project.makeHotDirectory()
        try makeDirectories(local.directory, mode: 0o700)
    } catch { throw .failed(error.description) }
    var flags = NodeFlags(project: project.layout, config: project.config, node: local.name, mode: mode, alsoListen: alsoListen)
    if args.value(.etcd) != nil {
        if args.value(.mode) == NodeMode.interactive.rawValue {
            throw .usage(.invalidValue(option: Option.mode.name, value: "interactive", reason: "not with --etcd: a fleet's node loads only what its fleet commits"))
        }
        flags.followFleet()
    }
    let listen = flags.listen.map(\.description)
    let node = try nodeExecutable()
    let nodeArguments = flags.arguments
    if args.has(.foreground) {
        let argv = ([node] + nodeArguments).map { strdup($0) } + [nil]
        execv(node, argv)
        throw .failed("cannot run \(node): \(String(cString: strerror(errno)))")
    }
    let process: Subprocess
    let supervisor = SupervisorFlags(pidFile: local.supervisorPid, node: flags)
    let channel: ReadyNotice.Channel
    do throws(SystemError) { channel = try ReadyNotice.Channel() } catch { throw .failed("cannot start \(node): \(error)") }
    do {
        // The supervisor hands the write end to the node it starts first,
        // which writes `ready` once it serves (docs/ARCHITECTURE.md, "Waiting").
        process = try Subprocess.spawn(
            node, supervisor.arguments, output: .file(local.log), newSession: true,
            environment: currentEnvironment().filter { !$0.hasPrefix(ReadyNotice.variable + "=") } + ["\(ReadyNotice.variable)=\(Subprocess.passedDescriptor)"],
            passing: channel.writeEnd)
    } catch {
        throw .failed("cannot start \(node): \(error)")
    }
    // The supervisor's copy of the write end is the only one left: its end,
    // or the node's, reads as the end of the socket.
    let readEnd = channel.keepingReadEnd()
    let deadline = ContinuousClock.now + nodeStartTimeout
    // A supervisor that has its own pidfd is watched for its end; without
    // one (a kernel before 5.3) the socket's end still tells.
    let supervisorEnd = try? Descriptor.process(process.pid)
    switch ReadyNotice.wait(on: readEnd, orEndOf: supervisorEnd, until: deadline) {
    case .ready:
        // Connecting once, for the name the node gives itself.
        if let client = try? NodeClient(address: address, cookieFile: project.cookiePath) {
            let following = try startFollower(args, project: project, node: local.name, socket: local.socket, folder: local.directory, supervisor: process.pid)
            print("node \(client.nodeName) started (supervisor pid \(process.pid)), listening on \(listen.joined(separator: " and "))\(following)")
            return
        }
        throw .failed("node \(local.name) said it serves but does not answer on \(address); see \(local.log)")
    case .timedOut:
        process.signal(SIGTERM)
        throw .failed("node did not say it serves within \(nodeStartTimeout.shortDescription); see \(local.log)")
    case .closed, .exited:
        // The first node ended before it served. Its supervisor, if still
        // there, starts it again without the socket: a restarted node tells
        // no one when it serves, so connecting is the question, asked every
        // `askInterval` until the supervisor gives up or the deadline passes.
        while ContinuousClock.now < deadline {
            if process.hasExited() { throw .failed("node exited at start (see \(local.log)): \(lastLine(of: local.log))") }
            if let client = try? NodeClient(address: address, cookieFile: project.cookiePath) {
                _ = try startFollower(args, project: project, node: local.name, socket: local.socket, folder: local.directory, supervisor: process.pid)
                print("node \(client.nodeName) started again by its supervisor (pid \(process.pid)) after failing at start, listening on \(listen.joined(separator: " and ")); see \(local.log)")
                return
            }
            // A restarted node has no ready socket: asking is all there is.
            pause(for: askInterval)
        }
        process.signal(SIGTERM)
        throw .failed("node failed at start and did not answer within \(nodeStartTimeout.shortDescription) (see \(local.log)): \(lastLine(of: local.log))")
    }
}

/// The last line of a log, for a message saying why a node ended.
private func lastLine(of path: String) -> String {
    let log = readFile(path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    return log.split(separator: "\n").suffix(1).joined()
}

extension Option {
    static let startNode = Option("--node", .value, valueName: "NAME", values: .nodes, help: "start a further local node of this name")
    static let listen = Option("--listen", .value, valueName: "ADDRESS", help: "also listen on tcp://HOST:PORT (or unix:PATH)")
    static let mode = Option(
        "--mode", .value, valueName: "MODE", values: .fixed(NodeMode.allCases.map(\.rawValue)),
        help: "interactive (default: load modules on first call) or embedded")
    static let foreground = Option("--foreground", .flag, help: "run the node attached to this terminal; Ctrl-C stops it")
}

/// How long `hot start` waits for its node to answer: a boot loads every permanent version.
let nodeStartTimeout: Duration = .seconds(15)
/// How often `hot start` and `hot stop` ask a node that gives no event for
/// what they wait on (a restarted node has no ready socket; a stopping one
/// may be on another machine): connecting is the question.
private let askInterval: Duration = .milliseconds(20)
/// How long `hot stop` waits for a node that agreed to stop to go.
let nodeStopTimeout: Duration = .seconds(10)

/// `hot stop`.
let stopCommand = Command(
    name: "stop", summary: "stop the project's node cleanly", usage: "stop [--node NAME|ADDRESS]",
    details: "Asks the node to stop and waits until it has gone.",
    options: Option.nodeOptions, arguments: 0...0
) { (args) throws(CommandError) in
    let project = try? Project.find(from: currentDirectory())
    for target in try resolveNodes(NodeSelection(args), project: project) {
        if case .unix(let path) = target.address, !fileExists(path) {
            print("node \(target.name) is not running")
            continue
        }
        // A local hotnode's pid and its supervisor's, read before the stop
        // removes their files: their pidfds end the wait when they exit.
        // Not a server that embeds the node: it lives on after its node stops.
        var nodeEnd: Descriptor? = nil
        var supervisorEnd: Descriptor? = nil
        if let project, case .unix(let path) = target.address, path == project.localNode(target.name).socket {
            let local = project.localNode(target.name)
            if let pid = readPid(local.pid), let hotnode = try? realPath(nodeExecutable()), realPath("/proc/\(pid)/exe") == hotnode {
                nodeEnd = try? Descriptor.process(pid)
                // Its supervisor only if still its parent: a supervisor
                // killed by a signal leaves a pid file naming anyone.
                if let supervisor = readPid(local.supervisorPid), parentPid(of: pid) == supervisor {
                    supervisorEnd = try? Descriptor.process(supervisor)
                }
            }
        }
        let client = try connect(target)
        let name = client.nodeName
        do throws(ClientError) { _ = try client.request(.stop) } catch { throw clientFailure(error) }
        let deadline = ContinuousClock.now + nodeStopTimeout
        if nodeEnd.number != nil {
            // The node exits, then its supervisor, which reaps it first: once
            // both have gone, no process of the node is left.
            guard hasEnded(nodeEnd, by: deadline), hasEnded(supervisorEnd, by: deadline) else {
                throw .failed("node \(name) agreed to stop but is still running after \(nodeStopTimeout.shortDescription)")
            }
        } else {
            // The node answers, then closes its listener and exits: wait for the socket to go.
            while ContinuousClock.now < deadline {
                if (try? NodeClient(address: target.address, cookieFile: target.cookieFile)) == nil { break }
                // The node may be on another machine, or inside a server that
                // outlives it: no process end to wait on, so whether it still
                // answers is asked every `askInterval`.
                pause(for: askInterval)
            }
        }
        print("node \(name) stopped")
    }
}

/// The pid a pid file names; nil without the file.
private func readPid(_ path: String) -> Int32? {
    guard let bytes = readFile(path), let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first,
        let pid = Int32(text), pid > 0
    else { return nil }
    return pid
}

/// The parent of process `pid`, from the `PPid:` line of /proc/PID/status.
private func parentPid(of pid: Int32) -> Int32? {
    guard let bytes = readFile("/proc/\(pid)/status") else { return nil }
    let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("PPid:") }
    return line.flatMap { Int32($0.dropFirst("PPid:".count).filter { !$0.isWhitespace }) }
}

/// Whether the process behind a pidfd has ended by `deadline` (no pidfd: nothing to wait for).
private func hasEnded(_ process: borrowing Descriptor?, by deadline: ContinuousClock.Instant) -> Bool {
    switch process {
    case .some(let end): (try? end.waitReadable(timeout: deadline.timeLeft)) == true
    case .none: true
    }
}

/// The hotnode beside this hot, or HOT_NODE_BIN.
func nodeExecutable() throws(CommandError) -> String {
    if let env = getenv("HOT_NODE_BIN") { return String(cString: env) }
    let candidate = executableDirectory() + "/hotnode"
    guard access(candidate, X_OK) == 0 else {
        throw .failed("hotnode not found beside hot (\(candidate)); reinstall hot or set HOT_NODE_BIN")
    }
    return candidate
}
