#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotWire

extension Rollout {
    /// How long a rollout waits for a node that dropped the connection during
    /// `load` to come back under its supervisor.
    static let restartWait: Duration = .seconds(15)
    /// How often a rollout asks a restarting node whether it serves again.
    static let restartAskInterval: Duration = .milliseconds(100)

    /// A connection that dropped during `load` most likely means the node
    /// died in the new versions' code (an on-load hook that crashes only in
    /// the real node passes its trial). Waits for the node to come back and
    /// reads its status: a restarted node names the build it died loading
    /// (`refused`). Nil when the error is no dropped connection, or when the
    /// node answers and names none of `loading` (the original error stands).
    func deathInLoad(_ error: ClientError, _ target: RolloutTarget, loading: [ShippedVersion]) -> String? {
        guard case .protocolError = error else { return nil }
        let names = loading.map { "\($0.module) v\($0.version)" }.joined(separator: ", ")
        let deadline = ContinuousClock.now + Self.restartWait
        while ContinuousClock.now < deadline {
            if let client = try? NodeClient(address: target.address, cookieFile: target.cookieFile),
                let status = try? client.request(.status)
            {
                let refused = status.refused ?? []
                guard let death = loading.first(where: { v in refused.contains { $0.names(v.module, version: v.version, key: v.key) } }) else {
                    return nil
                }
                return "the node died while loading \(death.module) v\(death.version); it restarted on its permanent versions and refuses that build until a deploy with --force"
            }
            // The node is restarting under its supervisor, perhaps on another
            // machine: only asking tells when it serves again.
            pause(for: Self.restartAskInterval)
        }
        return "the connection dropped while loading \(names) and the node did not come back within \(Self.restartWait.shortDescription): it may have died in that load (a node started by hot start or systemd restarts by itself)"
    }
}
