#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire

/// A node following a fleet: the node's side of an etcd rollout
/// (docs/FLEETS.md). It is a client of its own node, as `hot deploy` is:
/// it stages through the node's `stage` and `check`, loads with `load`,
/// rolls back with `rollback`, and makes permanent with `makePermanent`,
/// so the node's rules (all or nothing, a trial before a load) hold as in
/// a push deploy.
///
/// Each step reads the fleet's control keys and does what they ask of this
/// node: stage the rollout's release; run the release it is told to run
/// (the rollout's once committed to it, else the fleet's committed one, so
/// a node that joins later, or comes back, catches up); make it permanent
/// once the fleet committed it. Then it reports under its lease and waits
/// for the control keys to change. With etcd unreachable it changes
/// nothing: the node serves what it runs.
public final class FleetFollower {
    public let store: FleetStore
    /// The node's name in the fleet.
    public let name: String
    public let target: RolloutTarget
    /// Seconds a node's lease lasts without a renewal: how long a vanished
    /// node counts as live.
    public let leaseTTL: Int
    /// What the follower says as it goes, one line each.
    private let log: (String) -> Void

    private var lease = 0
    private var lastRenewal = ContinuousClock.now
    /// How often the lease is renewed: a third of its time.
    private var renewal: Duration { .seconds(max(1, leaseTTL / 3)) }
    private var client: NodeClient?
    private var report: FleetNodeReport
    /// The report as last written under the lease.
    private var written: FleetNodeReport?
    /// The release last loaded here, for the modules to roll back when the fleet goes back.
    private var loaded: FleetRelease?
    /// Modules deleted since the last `makePermanent`.
    private var deleted: Set<String> = []
    /// What this node refused, as `refusal(_:_:)` names it: not tried
    /// again until another rollout (or another committed release) asks.
    private var refused: Set<String> = []
    private var revision = 0

    public init(store: FleetStore, name: String, target: RolloutTarget, leaseTTL: Int = 10, log: @escaping (String) -> Void) {
        self.store = store
        self.name = name
        self.target = target
        self.leaseTTL = leaseTTL
        self.log = log
        report = FleetNodeReport(node: name)
    }

    /// A node's name in its fleet unless told another: `NODE@HOST`, HOST
    /// this machine's name (`gethostname(2)`).
    public static func defaultID(node: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "\(node)@localhost" }
        return "\(node)@" + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Follows until `stop` answers true (asked between steps, at least
    /// every `leaseTTL / 3` seconds) or `interrupt` is given (which ends
    /// the wait between steps at once); then takes the node out of the fleet.
    public func run(interrupt: EtcdInterrupt? = nil, until stop: () -> Bool) {
        var lastFault = ""
        while !stop() && interrupt?.isInterrupted != true {
            do throws(FleetFailure) {
                try renewLeaseIfDue()
                try step()
                lastFault = ""
                let outcome: EtcdClient.WatchOutcome
                do { outcome = try store.etcd.watch(prefix: store.keys.control, from: revision + 1, wait: renewal, interrupt: interrupt) } catch {
                    throw .etcd(error)
                }
                if outcome == .compacted { revision = 0 }
            } catch {
                // A node stopping fails the step it was in: that is no news.
                if interrupt?.isInterrupted == true { break }
                if Self.fault(error) != lastFault { log("fleet \(store.keys.fleet): \(error.description)") }
                lastFault = Self.fault(error)
                // etcd unreachable, or the node restarting: no event says
                // when either comes back, so the step is tried again.
                if let interrupt { interrupt.pause(for: .seconds(1)) } else { pause(for: .seconds(1)) }
            }
        }
        if lease != 0 { try? store.etcd.revoke(lease: lease) }
    }

    /// What makes two failures in a row one fault, said once in the log:
    /// etcd out of reach is one, whatever each member's socket answered
    /// this time (across a link gone silent, "timed out" and "no route to
    /// host" come by turns).
    private static func fault(_ error: FleetFailure) -> String {
        if case .etcd(.unreachable(let endpoints, _)) = error { return "etcd unreachable at \(endpoints)" }
        return error.description
    }

    /// Renews the lease when a third of its time has passed since the last renewal (or registers).
    private func renewLeaseIfDue() throws(FleetFailure) {
        guard lease == 0 || ContinuousClock.now - lastRenewal >= renewal else { return }
        try renewLease()
        lastRenewal = .now
    }

    private func renewLease() throws(FleetFailure) {
        if lease != 0 {
            let left: Int
            do { left = try store.etcd.keepAlive(lease: lease) } catch { throw .etcd(error) }
            if left > 0 { return }
            log("fleet \(store.keys.fleet): the lease expired; registering again")
        }
        do { lease = try store.etcd.grantLease(ttl: leaseTTL) } catch { throw .etcd(error) }
        try store.report(report, lease: lease)
        written = report
    }

    /// One pass: read the control keys, act, report.
    public func step() throws(FleetFailure) {
        let control = try store.control()
        revision = control.revision
        let status = try nodeStatus()
        // A node restarted under its supervisor boots its permanent
        // versions: what it runs is read from it, not remembered.
        if report.release != nil, let release = loaded, !Self.runs(release, status) {
            report.release = nil
            report.permanent = false
        }
        // Stage the rollout's release while it stages or commits.
        if let rollout = control.rollout, rollout.phase != .rollingBack, rollout.nodes.contains(name),
            !refused.contains(Self.refusal(rollout.release, rollout.attempt)), report.staged != rollout.release, report.release != rollout.release
        {
            do {
                let release = try store.release(rollout.release)
                try stage(release, status: status)
                report.staged = release.id
                report.state = .staged
                report.reason = nil
                log("fleet \(store.keys.fleet): staged \(release.id) (\(release.summary))")
            } catch {
                if error.isTransient { throw error }
                refuse(rollout.release, attempt: rollout.attempt, error)
            }
            // Staging can be long (a fetch, an upload, a trial): the lease is renewed after it.
            try renewLeaseIfDue()
        }
        // Run what the fleet tells this node to run.
        let wanted: String?
        var attempt: String? = nil
        if let rollout = control.rollout, rollout.phase == .committing, rollout.committed.contains(name) {
            wanted = rollout.release
            attempt = rollout.attempt
        } else {
            wanted = control.committed
        }
        if report.release != wanted || (wanted == nil && loaded != nil), !(wanted.map { refused.contains(Self.refusal($0, attempt)) } ?? false) {
            do {
                let release = try wanted.map { (id) throws(FleetFailure) in try store.release(id) }
                try run(release, goingBack: control.rollout?.phase == .rollingBack, status: try nodeStatus())
                report.release = wanted
                if report.staged == wanted { report.staged = nil }
                report.state = .running
                report.reason = nil
                report.permanent = false
                report.health = health(release)
                log("fleet \(store.keys.fleet): runs \(wanted ?? "no release") (health \(report.health))")
            } catch {
                if error.isTransient { throw error }
                if let wanted { refuse(wanted, attempt: attempt, error) }
            }
        }
        // Once the fleet committed what this node runs, a restart boots it.
        if let committed = control.committed, report.release == committed, !report.permanent, let release = loaded, release.id == committed {
            // A module the release dropped is made permanent too: deleted, a restart no longer boots it.
            do { _ = try request(.makePermanent(modules: release.artifacts.map(\.module) + deleted.sorted())) } catch { throw .node(error) }
            deleted = []
            report.permanent = true
        }
        report.versions = (try? nodeStatus())?.modules.reduce(into: [:]) { $0[$1.name] = $1.current?.version } ?? report.versions
        // Written when it changed: every write wakes the coordinator's watch.
        if report != written {
            try store.report(report, lease: lease)
            written = report
        }
    }

    /// Whether the node runs every module of `release` at the release's key.
    private static func runs(_ release: FleetRelease, _ status: StatusReply) -> Bool {
        release.artifacts.allSatisfy { artifact in status.modules.contains { $0.name == artifact.module && $0.current?.key == artifact.key } }
    }

    /// A refusal's name: the release, and the rollout that asked (nil: the committed release).
    private static func refusal(_ release: String, _ attempt: String?) -> String { "\(release)#\(attempt ?? "committed")" }

    private func refuse(_ release: String, attempt: String?, _ error: FleetFailure) {
        refused.insert(Self.refusal(release, attempt))
        report.state = .failed
        report.failedRelease = release
        report.failedAttempt = attempt
        report.reason = error.description
        if report.staged == release { report.staged = nil }
        log("fleet \(store.keys.fleet): refused \(release): \(error.description)")
    }

    /// Fetches and checks the artifacts the node lacks, uploads them and
    /// trial-loads them all.
    private func stage(_ release: FleetRelease, status: StatusReply) throws(FleetFailure) {
        let running = Dictionary(status.modules.compactMap { m in m.current.map { (m.name, $0.key) } }, uniquingKeysWith: { a, _ in a })
        let needed = release.artifacts.filter { running[$0.module] != $0.key }
        guard !needed.isEmpty else { return }
        for artifact in needed { try upload(artifact) }
        do { _ = try request(.check(files: needed.map(\.file))) } catch { throw .node(error) }
    }

    /// Makes the node run `release`: each module whose old version is the
    /// release's is rolled back to it, the others staged and loaded in one
    /// load. A module of the release loaded before that this one lacks is
    /// deleted, or, `goingBack` from a rollout that added it, goes back to
    /// the version it had before (its old one) if it had one.
    private func run(_ release: FleetRelease?, goingBack: Bool, status: StatusReply) throws(FleetFailure) {
        var current: [String: String] = [:]
        var old: [String: String] = [:]
        for module in status.modules {
            if let key = module.current?.key { current[module.name] = key }
            if let key = module.old?.key { old[module.name] = key }
        }
        let artifacts = release?.artifacts ?? []
        var toLoad: [FleetRelease.Artifact] = []
        do {
            for artifact in artifacts where current[artifact.module] != artifact.key {
                if old[artifact.module] == artifact.key {
                    _ = try request(.rollback(module: artifact.module))
                } else {
                    toLoad.append(artifact)
                }
            }
            let kept = Set(artifacts.map(\.module))
            for artifact in loaded?.artifacts ?? [] where !kept.contains(artifact.module) && current[artifact.module] == artifact.key {
                if goingBack && old[artifact.module] != nil {
                    _ = try request(.rollback(module: artifact.module))
                } else {
                    _ = try request(.delete(module: artifact.module))
                    deleted.insert(artifact.module)
                }
            }
        } catch { throw .node(error) }
        if !toLoad.isEmpty {
            for artifact in toLoad { try upload(artifact) }
            do { _ = try request(.load(files: toLoad.map(\.file), purge: false, force: false)) } catch { throw .node(error) }
        }
        loaded = release
    }

    /// Fetches one artifact from etcd, checks it, and uploads it into the node's staging folder.
    private func upload(_ artifact: FleetRelease.Artifact) throws(FleetFailure) {
        let bytes = try store.artifact(artifact)
        let connection = try connected()
        do { try connection.stage(bytes: bytes, fileName: artifact.file) } catch {
            client = nil
            throw .node(error)
        }
    }

    /// "ok", or why a module of the release that exports `health` said otherwise.
    private func health(_ release: FleetRelease?) -> String {
        guard let release, let status = try? nodeStatus() else { return "ok" }
        let modules = Set(release.artifacts.map(\.module))
        for module in status.modules where modules.contains(module.name) && module.current?.exports.contains("health") == true {
            let answer: Term
            do { answer = try request(.call(module: module.name, function: "health", args: [])).result } catch {
                return "\(module.name):health failed: \(error)"
            }
            guard answer == .bool(true) || answer == .string("ok") else { return "\(module.name):health answered \(JSON.render(answer))" }
        }
        return "ok"
    }

    private func nodeStatus() throws(FleetFailure) -> StatusReply {
        do { return try request(.status) } catch { throw .node(error) }
    }

    private func connected() throws(FleetFailure) -> NodeClient {
        if let client { return client }
        do {
            let opened = try NodeClient(address: target.address, cookieFile: target.cookieFile)
            client = opened
            return opened
        } catch { throw .node(error) }
    }

    /// A request on the open connection; a broken one is dropped, so that
    /// the next step connects again (a request is never sent twice).
    private func request<Reply>(_ request: TypedRequest<Reply>) throws(ClientError) -> Reply {
        let connection: NodeClient
        do { connection = try connected() } catch {
            if case .node(let failure) = error { throw failure }
            throw .protocolError(error.description)
        }
        do { return try connection.request(request) } catch {
            if case .protocolError = error { client = nil }
            throw error
        }
    }
}
