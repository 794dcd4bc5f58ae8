#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPlatform
import HotProject
import HotWire

/// `hot fleet status|follow`: a fleet coordinated through etcd (docs/FLEETS.md).
let fleetCommand = Command(
    name: "fleet", summary: "show a fleet coordinated through etcd, or make a node follow it",
    usage: """
        fleet status --etcd URL[,URL...] --fleet NAME [--cookie-file PATH] [--json]
               fleet follow --etcd URL[,URL...] --fleet NAME [--node NAME|ADDRESS] [--as ID] [--cookie-file PATH]
        """,
    details: """
        status lists every live node of the fleet (those whose lease etcd still holds): the
        release it runs, the one it staged, its state, health and module versions; and the
        fleet's committed release and the rollout under way, if any.
        follow makes a node follow the fleet, in the foreground: it registers the node under a
        lease (as ID, by default NODE@HOST), stages each release a rollout publishes (every
        artifact checked against the release's sha256, the release's signature against the
        fleet's cookie), loads it once the coordinator commits it to this node, and boots the
        committed release's versions after a restart. `hot start --etcd ... --fleet ...` runs
        it beside the node it starts. With etcd unreachable the node keeps serving what it runs.
        """,
    options: [.etcd, .fleet, .json, .fleetNodeID, .supervisor] + Option.nodeOptions,
    arguments: 1...1, argumentValues: [.fixed(["status", "follow"])]
) { (args) throws(CommandError) in
    switch args.positionals[0] {
    case "status": try fleetStatus(args)
    case "follow": try fleetFollow(args)
    case let other:
        let nearest = nearestSpelling(to: other, among: ["status", "follow"])
        throw .usage(.invalidValue(option: "fleet", value: other, reason: "status or follow" + (nearest.map { "; did you mean '\($0)'?" } ?? "")))
    }
}

extension Option {
    static let etcd = Option(
        "--etcd", .value, valueName: "URL[,URL...]", help: "etcd's members (http://HOST:PORT): coordinate through etcd instead of pushing")
    static let fleet = Option("--fleet", .value, valueName: "NAME", help: "the fleet's name in etcd")
    static let resume = Option("--resume", .flag, help: "with --etcd: finish (or roll back) the rollout a coordinator left")
    static let fleetNodeID = Option("--as", .value, valueName: "ID", help: "follow: the node's name in the fleet (default NODE@HOST)")
    static let supervisor = Option("--supervisor", .value, valueName: "PID", help: "follow: stop following when this process ends")
}

/// The fleet's store from `--etcd`, `--fleet` and the cookie file.
func fleetStore(_ args: ParsedArguments, cookieFile: String) throws(CommandError) -> FleetStore {
    guard let urls = args.value(.etcd) else { throw .usage(.missingValue(option: Option.etcd.name)) }
    guard let fleet = args.value(.fleet) else { throw .usage(.missingValue(option: Option.fleet.name)) }
    guard FleetKeys.isValidName(fleet) else {
        throw .usage(.invalidValue(option: Option.fleet.name, value: fleet, reason: "use letters, digits, '-', '_' and '.'"))
    }
    let endpoints: [EtcdEndpoint]
    switch EtcdEndpoint.list(urls) {
    case .success(let list): endpoints = list
    case .failure(let error): throw .usage(.invalidValue(option: Option.etcd.name, value: urls, reason: error.description))
    }
    let cookie: [UInt8]
    do { cookie = try Cookie.read(path: cookieFile) } catch { throw .failed(error.description) }
    return FleetStore(etcd: EtcdClient(endpoints: endpoints), fleet: fleet, cookie: cookie)
}

/// The cookie file a fleet command signs and verifies with.
private func fleetCookie(_ args: ParsedArguments) throws(CommandError) -> String {
    if let file = args.value(.cookieFile) ?? getenv("HOT_COOKIE_FILE").map({ String(cString: $0) }) { return file }
    if let project = try? Project.find(from: currentDirectory()) { return project.cookiePath }
    throw .usage(.missingValue(option: Option.cookieFile.name))
}

/// A fleet failure as the CLI reports it: etcd out of reach is exit 3.
func fleetFailure(_ error: FleetFailure) -> CommandError {
    if case .etcd(.unreachable) = error { return .unreachable(error.description) }
    return .failed(error.description)
}

private func fleetStatus(_ args: ParsedArguments) throws(CommandError) {
    let store = try fleetStore(args, cookieFile: try fleetCookie(args))
    let control: FleetStore.Control
    let nodes: [String: FleetNodeReport]
    do throws(FleetFailure) {
        control = try store.control()
        nodes = try store.nodes()
    } catch { throw fleetFailure(error) }
    let sorted = nodes.keys.sorted().compactMap { nodes[$0] }
    if args.has(.json) {
        var document: [String: Term] = ["fleet": .string(store.keys.fleet), "committed": control.committed.map { .string($0) } ?? .null]
        document["rollout"] = (control.rollout.flatMap { try? TermEncoder().encode($0) }) ?? .null
        document["nodes"] = .list(sorted.compactMap { try? TermEncoder().encode($0) })
        printJSON(.map(document))
        return
    }
    print("fleet \(store.keys.fleet): committed \(control.committed ?? "none")")
    if let rollout = control.rollout {
        print("rollout of \(rollout.release): \(rollout.phase.rawValue), committed on \(rollout.committed.count) of \(rollout.nodes.count) (\(rollout.strategy))"
            + (rollout.reason.map { ": \($0)" } ?? ""))
    }
    guard !sorted.isEmpty else {
        print("no live node")
        return
    }
    let width = max(4, sorted.map(\.node.count).max() ?? 4)
    print("\("node".padding(width))  \("state".padding(7))  \("release".padding(16))  \("staged".padding(16))  health  modules")
    for node in sorted {
        let modules = node.versions.keys.sorted().map { "\($0) v\(node.versions[$0] ?? 0)" }.joined(separator: ", ")
        print("\(node.node.padding(width))  \(node.state.rawValue.padding(7))  \((node.release ?? "-").padding(16))  \((node.staged ?? "-").padding(16))  \(node.health == "ok" ? "ok    " : "failed")  \(modules.isEmpty ? "-" : modules)"
            + (node.reason.map { "  (\($0))" } ?? ""))
    }
}

private func fleetFollow(_ args: ParsedArguments) throws(CommandError) {
    let project = try? Project.find(from: currentDirectory())
    let targets = try resolveNodes(NodeSelection(args), project: project)
    guard targets.count == 1, let target = targets.first else {
        throw .usage(.invalidValue(option: Option.node.name, value: "\(targets.count) nodes", reason: "a follower follows one node"))
    }
    let store = try fleetStore(args, cookieFile: target.cookieFile)
    let id = args.value(.fleetNodeID) ?? FleetFollower.defaultID(node: target.name)
    guard FleetSettings.isValidNodeID(id) else {
        throw .usage(.invalidValue(option: Option.fleetNodeID.name, value: id, reason: "use letters, digits, '-', '_', '.' and '@'"))
    }
    var supervisorEnd: Descriptor? = nil
    if let text = args.value(.supervisor) {
        guard let pid = Int32(text), pid > 0 else { throw .usage(.invalidValue(option: Option.supervisor.name, value: text, reason: "a process id")) }
        do { supervisorEnd = try Descriptor.process(pid) } catch { throw .failed("cannot watch process \(pid): \(error)") }
    }
    let follower = FleetFollower(
        store: store, name: id, target: RolloutTarget(name: target.name, address: target.address, cookieFile: target.cookieFile)
    ) { line in writeStdout("\(utcTime(now())) \(line)\n") }
    // Each line written at once: stdout is the node's follower.log, a file
    // that print would fill a buffer at a time, so that a follower cut off
    // from etcd for hours would not say so until it ended.
    writeStdout("\(utcTime(now())) \(id) follows fleet \(store.keys.fleet) at \(store.etcd.endpoints.map(\.description).joined(separator: ","))\n")
    follower.run {
        switch supervisorEnd {
        case .some(let end): (try? end.waitReadable(timeout: .zero)) == true
        case .none: false
        }
    }
    writeStdout("\(utcTime(now())) \(id) left fleet \(store.keys.fleet)\n")
}

/// `hot deploy --etcd`: publishes the built versions and rolls them out
/// through etcd, or with `--resume` finishes the rollout a coordinator left.
func deployThroughEtcd(_ args: ParsedArguments) throws(CommandError) {
    try refusePushOptions(args)
    let project = try currentProject()
    let store = try fleetStore(args, cookieFile: args.value(.cookieFile) ?? project.cookiePath)
    let coordinator = FleetCoordinator(store: store, strategy: try strategy(args), healthCommand: args.value(.healthCommand))
    let json = args.has(.json)
    let say: (String) -> Void = { line in if !json { print(line) } }
    let ending: FleetCoordinator.Ending
    var release: FleetRelease?
    if args.has(.resume) {
        do { ending = try coordinator.resume(progress: say) } catch { throw fleetFailure(error) }
    } else {
        let lock = try lockProject(project)
        defer { lock.release() }
        let report = try runBuild(project, try buildOptions(args, modules: args.positionals), quiet: json)
        let versions = report.versions.map { v in
            ShippedVersion(module: v.module, version: v.version, key: v.key, path: project.builtPath(module: v.module, file: v.file))
        }
        // Some modules only (by name or --since): the others stay as the fleet's committed release has them.
        let partial = !args.positionals.isEmpty || args.value(.since) != nil
        let removed = Set(report.modules.filter { $0.status == .deleted }.map(\.module))
        do throws(FleetFailure) {
            let base = try partial ? store.control().committed.map { (id) throws(FleetFailure) in try store.release(id) } : nil
            let published = try coordinator.publish(versions, over: base, removing: removed)
            release = published
            say("published release \(published.id): \(published.summary)")
            ending = try coordinator.rollOut(published, progress: say)
        } catch { throw fleetFailure(error) }
    }
    let committed = (try? store.control())?.committed
    if json {
        printJSON(["fleet": .string(store.keys.fleet), "release": (release?.id ?? committed).map { .string($0) } ?? .null,
                   "outcome": .string(ending == .committed ? "committed" : "already committed")])
    } else {
        say(ending == .committed ? "fleet \(store.keys.fleet) committed release \(committed ?? "?")" : "fleet \(store.keys.fleet) already runs release \(release?.id ?? "?")")
    }
}

/// Starts `hot fleet follow` beside a node `hot start` started, in a session
/// of its own, its output in the node's folder (`follower.log`) and its pid
/// in `follower.pid`; it ends when the node's supervisor does.
func startFollower(_ args: ParsedArguments, project: Project, node: String, socket: String, folder: String, supervisor: Int32) throws(CommandError) -> String {
    guard let urls = args.value(.etcd), let fleet = args.value(.fleet) else { return "" }
    let id = FleetFollower.defaultID(node: node)
    let arguments = [
        "fleet", "follow", "--etcd", urls, "--fleet", fleet, "--node", "unix:" + socket, "--cookie-file", project.cookiePath,
        "--as", id, "--supervisor", String(supervisor),
    ]
    let hot = executableDirectory() + "/hot"
    let follower: Subprocess
    do { follower = try Subprocess.spawn(hot, arguments, output: .file(folder + "/follower.log"), newSession: true) } catch {
        throw .failed("node started, but its fleet follower could not: \(error)")
    }
    do { try writeFileAtomically(folder + "/follower.pid", Array("\(follower.pid)\n".utf8), durable: false) } catch {
        throw .failed("node started, but the follower's pid file could not be written: \(error)")
    }
    return ", following fleet \(fleet) as \(id)" + (try caughtUp(fleetStore(args, cookieFile: project.cookiePath), id: id))
}

/// Waits until a node that just joined runs the fleet's committed release,
/// as its follower reports it, for up to `nodeStartTimeout`: so that once
/// `hot start` returns, the node serves what the fleet committed. What to
/// add to the start line; a refusal of the release is an error.
private func caughtUp(_ store: FleetStore, id: String) throws(CommandError) -> String {
    let began = ContinuousClock.now
    let deadline = began + nodeStartTimeout
    while true {
        let committed: String?
        let report: FleetNodeReport?
        let revision: Int
        do throws(FleetFailure) {
            let control = try store.control()
            committed = control.committed
            revision = control.revision
            report = try store.nodes()[id]
        } catch {
            return "; \(error.description): it serves its own versions until etcd answers"
        }
        guard let committed else { return "; the fleet has no committed release yet" }
        if let report, report.release == committed {
            return ", running release \(committed) (\((ContinuousClock.now - began).shortDescription) after it served)"
        }
        if let report, report.state == .failed, report.failedRelease == committed, report.failedAttempt == nil {
            throw .failed("node started, but it refused the fleet's committed release \(committed): \(report.reason ?? "no reason given")")
        }
        guard ContinuousClock.now < deadline else {
            return "; it did not run the committed release \(committed) within \(nodeStartTimeout.shortDescription) (see its follower.log)"
        }
        // The follower's report is the event: a watch on it ends the wait.
        _ = try? store.etcd.watch(prefix: store.keys.node(id), from: revision + 1, wait: min(deadline.timeLeft, .seconds(1)))
    }
}

/// The options of `hot deploy` that only a push deploy has, refused with --etcd.
func refusePushOptions(_ args: ParsedArguments) throws(CommandError) {
    let push: [Option] = [.purge, .force, .temporary, .patchHost]
    for option in push where args.has(option) {
        throw .usage(.invalidValue(option: option.name, value: "with --etcd", reason: "a fleet deploy through etcd does not take it yet; push to nodes instead"))
    }
    if !args.all(.node).isEmpty || args.value(.nodes) != nil || args.value(.group) != nil {
        throw .usage(.invalidValue(option: Option.etcd.name, value: args.value(.etcd) ?? "", reason: "the fleet's nodes come from etcd: drop --node, --nodes and --group"))
    }
}
