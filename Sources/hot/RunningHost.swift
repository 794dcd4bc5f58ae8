import Hot
import HotBuild
import HotDeploy
import HotWire

/// Refuses to build for a node whose host is not the build in the host's
/// `.build`: modules compiled there would carry that build's fingerprint,
/// and the running node would refuse every one of them. A rebuilt but not
/// restarted app is the usual cause (docs/ARCHITECTURE.md, "Built-in
/// versions"). Nodes that do not answer, or do not say which build they
/// run, are left to the deploy to report.
func refuseOtherHostBuild(_ project: Project, targets: [NodeTarget]) throws(CommandError) {
    guard let config = project.config.host else { return }
    let built: HostBuild
    do { built = try HostBuild.resolve(config, project: project) } catch { throw .failed(error.description) }
    for target in targets {
        guard let client = try? NodeClient(address: target.address, cookieFile: target.cookieFile),
            let status = try? client.request(.status), let running = status.host
        else { continue }
        if let refusal = otherHostBuild(node: target.name, running: running, built: built.fingerprint, product: config.product) {
            throw .failed(refusal)
        }
    }
}

/// The one line that refuses a deploy to a node running another build of
/// the host than `built`, with the steps that work; nil when they agree.
func otherHostBuild(node: String, running: String, built: String, product: String) -> String? {
    guard running != built else { return nil }
    return "\(node) runs another build of the host (\(running.prefix(12))) than the one in .build (\(built.prefix(12))), and modules built now would fit only that one: restart the app (`swift run \(product)`) so that it runs the new build, which boots its built-in versions, then `hot deploy`; nothing was built or deployed"
}
