import Hot
import HotBuild
import HotDeploy
import HotWire

/// The host build that the nodes to deploy to run, resolved once for the
/// whole deploy: the build in the host's `.build`, or, for an app rebuilt
/// but not restarted, the build it still runs as `hot build` kept it, so
/// that the running app takes the new versions (docs/ARCHITECTURE.md, "Host
/// modules"). `other` names the node when it is not `.build`'s. Nil for a
/// project without a host. Nodes that do not answer, or do not say which
/// build they run, are left to the deploy to report.
func runningHostBuild(_ project: Project, targets: [NodeTarget]) throws(CommandError) -> (build: HostBuild, other: String?)? {
    guard let config = project.config.host else { return nil }
    var running: [(node: String, fingerprint: String)] = []
    for target in targets {
        guard let client = try? NodeClient(address: target.address, cookieFile: target.cookieFile),
            let status = try? client.request(.status), let host = status.host
        else { continue }
        running.append((target.name, host))
    }
    let built: HostBuild
    do { built = try HostBuild.resolve(config, project: project) } catch {
        // The host's sources were edited since the build the nodes run,
        // which hot watch patches into them (docs/ARCHITECTURE.md, "Patching
        // the host"): that build, kept, is still what modules compile against.
        if case .sourceNewer = error, let only = running.first, running.allSatisfy({ $0.fingerprint == only.fingerprint }),
            let kept = HostBuild.kept(only.fingerprint, project: project)
        {
            return (kept, nil)
        }
        throw .failed(error.description)
    }
    if let refusal = mixedHostBuilds(running, built: built.fingerprint) { throw .failed(refusal) }
    guard let other = running.first(where: { $0.fingerprint != built.fingerprint }) else { return (built, nil) }
    guard let kept = HostBuild.kept(other.fingerprint, project: project) else {
        throw .failed(
            HostError.runningNotKept(node: other.node, running: other.fingerprint, built: built.fingerprint, product: config.product).description)
    }
    return (kept, other.node)
}

/// The one line that refuses a deploy to nodes running more than one build
/// of the host, when one of them is not the build in `.build`: one build of
/// a module fits one build of the host. Nil when one build fits them all.
func mixedHostBuilds(_ running: [(node: String, fingerprint: String)], built: String) -> String? {
    let builds = Set(running.map(\.fingerprint))
    guard builds.count > 1, builds != [built] else { return nil }
    let listed = running.map { "\($0.node) runs \($0.fingerprint.prefix(12))" }.joined(separator: ", ")
    return "the nodes run \(builds.count) builds of the host (\(listed); .build holds \(built.prefix(12))), and one build of a module fits one of them: restart them on the build in .build, or deploy to each build's nodes with --node; nothing was built or deployed"
}
