#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPlatform

/// `hot deploy`.
let deployCommand = Command(
    name: "deploy", summary: "build what changed and load it into running nodes, by phases and a strategy",
    usage: """
        deploy [MODULE...] [--since REV] [--node NAME|ADDRESS]... [--nodes FILE] [--group G]
                  [--strategy all|rolling|canary] [--batch N] [--canary N] [--canary-wait S]
                  [--health-cmd CMD] [--purge] [--force] [--temporary] [--strict] [--patch-host] [--json]
               deploy [MODULE...] --etcd URL[,URL...] --fleet NAME [--strategy ...] [--health-cmd CMD] [--resume] [--json]
        """,
    details: """
        Phase one stages on every node: uploads each version the node lacks (verified by sha256)
        and trial-loads it in a throwaway process. Nothing is committed unless every node staged.
        Phase two commits by strategy: all nodes at once, rolling (--batch N at a time), or canary
        (--canary N first, --canary-wait seconds, then the rest). After each commit the node is
        checked: every deployed module that exports `health` must answer true or "ok", and
        --health-cmd CMD (run with HOT_NODE and HOT_NODE_NAME set) must exit 0. A failed check
        rolls the committed nodes back to the versions they ran, which are still loaded; nodes
        not yet reached stay untouched. Last, the new versions are made permanent (what a
        restarted node boots) unless --temporary.
        A node that dies while loading a version (code that crashes only in the real node, not
        in its trial) is restarted by its supervisor on its permanent versions; the deploy says
        so and rolls back like a failed check, and the node refuses that build until --force.
        The build checks run as in `hot build` (see `hot help build`): their warnings go to
        stderr and into --json's "warnings"; with --strict a finding fails the build, and
        nothing is deployed.
        With --patch-host (one node only), the host's own code is patched too, as `hot watch`
        patches it: the members of the host's sources that differ from the build the node runs
        are compiled into a version of host_patch and deployed with the modules. A change no
        patch can make live is listed as `restart needed: <why> at FILE:LINE`, and nothing is
        deployed (docs/RELOADING.md, "Patching the host's own code").
        With --etcd and --fleet, the deploy goes through etcd instead of to nodes named here: the
        build is published there as a signed release, every live node of the fleet stages it,
        then it is committed batch by batch by the strategy, and a node that refuses it or fails
        its health check rolls the committed ones back (--health-cmd runs here, with
        HOT_NODE_NAME and HOT_FLEET set). --resume finishes or rolls back the rollout a
        coordinator left; see docs/FLEETS.md.
        """,
    options: Option.nodeOptions + [
        .since, .strategy, .batch, .canary, .canaryWait, .healthCommand, .purge, .force, .temporary, .release, .jobs, .strict, .patchHost,
        .json, .etcd, .fleet, .resume,
    ],
    arguments: 0...Int.max, argumentValues: [.modules]
) { (args) throws(CommandError) in
    if args.value(.etcd) != nil || args.value(.fleet) != nil || args.has(.resume) {
        try deployThroughEtcd(args)
        return
    }
    let request = DeployRequest(
        nodes: NodeSelection(args), json: args.has(.json), build: try buildOptions(args, modules: args.positionals),
        strategy: try strategy(args), purge: args.has(.purge), force: args.has(.force), temporary: args.has(.temporary),
        healthCommand: args.value(.healthCommand), patchHost: args.has(.patchHost))
    try deploy(request)
}

extension Option {
    static let strategy = Option(
        "--strategy", .value, valueName: "all|rolling|canary", values: .fixed(strategyNames), help: "how commits spread (default: all)")
    static let batch = Option("--batch", .value, valueName: "N", help: "rolling: nodes per batch (default 1)")
    static let canary = Option("--canary", .value, valueName: "N", help: "canary: nodes committed first (default 1)")
    static let canaryWait = Option("--canary-wait", .value, valueName: "S", help: "canary: seconds to wait before checking and going on (default 5)")
    static let healthCommand = Option("--health-cmd", .value, valueName: "CMD", help: "a shell command that must exit 0 after each node's commit")
    static let purge = Option("--purge", .flag, help: "stop processes still in old code before loading")
    static let force = Option("--force", .flag, help: "reload sticky modules too, and retry a build the node died loading")
    static let temporary = Option("--temporary", .flag, help: "do not make the new versions permanent")
    static let patchHost = Option("--patch-host", .flag, help: "patch the host's own code too, as hot watch does (one node)")
}

/// `hot update MODULE`.
let updateCommand = Command(
    name: "update", summary: "build one module and load it into the project's node",
    usage: "update MODULE [--node NAME|ADDRESS] [--json]",
    details: "The edit loop's step: `hot deploy MODULE` to the local node.",
    options: Option.nodeOptions + [.json], arguments: 1...1, argumentValues: [.modules]
) { (args) throws(CommandError) in
    try deploy(DeployRequest(nodes: NodeSelection(args), json: args.has(.json), build: BuildOptions(modules: args.positionals)))
}

private func positiveNumber(_ args: ParsedArguments, _ option: Option, default value: Double) throws(CommandError) -> Double {
    guard let text = args.value(option) else { return value }
    guard let n = Double(text), n >= 0 else { throw .usage(.invalidValue(option: option.name, value: text, reason: "a number")) }
    return n
}

/// The values of `--strategy`, as `strategy(_:)` reads them.
let strategyNames = ["all", "rolling", "canary"]

func strategy(_ args: ParsedArguments) throws(CommandError) -> Strategy {
    switch args.value(.strategy) ?? "all" {
    case "all": return .all
    case "rolling": return .rolling(batch: Int(try positiveNumber(args, .batch, default: 1)))
    case "canary":
        return .canary(count: Int(try positiveNumber(args, .canary, default: 1)), wait: .seconds(try positiveNumber(args, .canaryWait, default: 5)))
    case let other: throw .usage(.invalidValue(option: Option.strategy.name, value: other, reason: "all, rolling or canary"))
    }
}

/// What `hot deploy` was told; `hot update` takes the defaults of all
/// but the nodes, `--json` and its one module.
private struct DeployRequest {
    var nodes: NodeSelection
    var json: Bool
    var build: BuildOptions
    var strategy = Strategy.all
    var purge = false
    var force = false
    var temporary = false
    var healthCommand: String?
    var patchHost = false
}

private func deploy(_ request: DeployRequest) throws(CommandError) {
    let project = try currentProject()
    let json = request.json
    let targets = try resolveNodes(request.nodes, project: project)
    let strategy = request.strategy
    // Held to the end: a second deploy builds and ships after this one, not across it.
    let lock = try lockProject(project)
    defer { lock.release() }
    var build = request.build
    let host = try runningHostBuild(project, targets: targets)
    build.host = host?.build
    if let host, let node = host.other, !json {
        printError("note: \(node) runs another build of the host (\(host.build.fingerprint.prefix(12))) than .build holds: building for the one it runs")
    }
    if request.patchHost {
        guard targets.count == 1 else {
            throw .usage(.invalidValue(option: Option.patchHost.name, value: "\(targets.count) nodes", reason: "a patch of the host's code goes to one node: name it with --node"))
        }
        guard host != nil else { throw .failed("--patch-host: hot.json names no host; patches are of a host's own code") }
    }
    // A project whose only code is the host's has nothing but the patch to build.
    let onlyHost = request.patchHost && build.modules.isEmpty && ((try? project.moduleNames())?.isEmpty ?? false)
    let report = onlyHost ? nil : try runBuild(project, build, quiet: json)
    var versions = (report?.versions ?? []).map { v in
        ShippedVersion(module: v.module, version: v.version, key: v.key, path: project.builtPath(module: v.module, file: v.file))
    }
    if request.patchHost, let running = host?.build, let patch = try hostPatch(project, running) { versions.append(patch) }
    let rollout = Rollout(
        targets: targets.map { RolloutTarget(name: $0.name, address: $0.address, cookieFile: $0.cookieFile) },
        strategy: strategy, purge: request.purge, force: request.force, temporary: request.temporary,
        healthCommand: request.healthCommand)
    let single = targets.count == 1
    let lines = Locked<Void>(())
    let outcomes: [NodeOutcome]
    var failure: Rollout.Failure?
    do throws(Rollout.Failure) {
        outcomes = try rollout.run(versions) { node, state, detail in
            // One node: the classic `name: module vA -> vB` lines; many: a line per step.
            guard !json, !single || state == .committed || state == .rolledBack else { return }
            lines.withLock { _ in
                if single && state == .committed {
                    for change in detail.split(separator: ",") { print("\(node): \(change.drop { $0 == " " })") }
                } else {
                    print("\(node): \(state.rawValue)\(detail.isEmpty ? "" : " (\(detail))")")
                }
            }
        }
    } catch {
        failure = error
        switch error {
        case .unreachable(let o), .stagingFailed(let o), .commitFailed(let o): outcomes = o
        }
    }
    if json {
        printJSON(["nodes": .list(outcomes.map(outcomeTerm)), "warnings": .list((report?.checks.warnings ?? []).map(findingTerm))])
    } else {
        if !single { printTable(outcomes) }
        if single, failure == nil, outcomes.allSatisfy({ $0.changes.isEmpty }) {
            print("\(outcomes.first?.node ?? "node"): already runs the newest version of every module")
        }
    }
    guard let failure else { return }
    let reasons = outcomes.compactMap { o in o.reason.map { "\(o.node): \($0)" } }.joined(separator: "; ")
    switch failure {
    case .unreachable:
        throw single ? .unreachable(reasons) : .unreachable("staging failed, nothing was committed: \(reasons)")
    case .stagingFailed:
        throw .failed(single ? reasons : "staging failed, nothing was committed: \(reasons)")
    case .commitFailed:
        throw .failed(single ? reasons : "deploy failed and was rolled back: \(reasons)")
    }
}

/// The patch of the host's own code against the build the node runs, to
/// ship with the modules; nil when the sources are as that build (or the
/// last patch) has them. What needs a restart fails the deploy, before
/// anything is shipped.
private func hostPatch(_ project: Project, _ host: HostBuild) throws(CommandError) -> ShippedVersion? {
    let outcome: HostPatchOutcome
    do { outcome = try HostPatcher(project: project, host: host).build() } catch .compile(let failures, _) {
        throw .failed(failures.map { $0.output }.joined(separator: "\n") + "\nthe patch of the host's code did not compile; nothing was deployed")
    } catch {
        throw .failed("patching the host's code: \(error.description); nothing was deployed")
    }
    switch outcome {
    case .unchanged: return nil
    case .restartNeeded(let reasons):
        throw .failed(reasons.map(\.description).joined(separator: "\n") + "\nnothing was deployed: rebuild and restart the host for these")
    case .built(let patch):
        return ShippedVersion(module: patch.version.module, version: patch.version.version, key: patch.version.key, path: patch.path)
    }
}

private func outcomeTerm(_ outcome: NodeOutcome) -> Term {
    [
        "node": .string(outcome.node), "state": .string(outcome.state.rawValue),
        "reason": outcome.reason.map { .string($0) } ?? .null,
        "modules": .list(outcome.changes.map { change in
            [
                "name": .string(change.module), "from": change.from.map { .int($0) } ?? .null, "to": .int(change.to),
                "codeChangeFailures": .list(change.codeChangeFailures.map { ["pid": .string($0.pid), "reason": .string($0.reason)] }),
            ]
        }),
    ]
}

private func printTable(_ outcomes: [NodeOutcome]) {
    let width = max(4, outcomes.map(\.node.count).max() ?? 4)
    print("\("node".padding(width))  \("state".padding(11))  modules")
    for o in outcomes {
        let modules = o.changes.map { "\($0.module) \($0.from.map { "v\($0)" } ?? "none")->v\($0.to)" }.joined(separator: ", ")
        print("\(o.node.padding(width))  \(o.state.rawValue.padding(11))  \(modules.isEmpty ? "-" : modules)")
    }
}
