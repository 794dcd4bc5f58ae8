#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// The coordinator of an etcd rollout: `hot deploy --etcd`. It publishes a
/// release, starts a rollout (only if none is under way: a
/// compare-and-swap), waits for every live node to stage it, commits it
/// batch by batch as `Strategy` spreads them, checks each batch, and either
/// commits the release fleet-wide or rolls every committed node back.
///
/// Its whole state is the rollout record in etcd, so a coordinator that
/// dies leaves nothing only it knew: `resume` picks the rollout up where
/// the record says it is.
public struct FleetCoordinator: Sendable {
    public let store: FleetStore
    public let strategy: Strategy
    /// Run per node once it runs the release (HOT_NODE_NAME set); exit 0 is healthy.
    public let healthCommand: String?
    /// How long a step (staging, a batch's commit, a rollback) may take.
    public let stepTimeout: Duration

    public init(store: FleetStore, strategy: Strategy = .all, healthCommand: String? = nil, stepTimeout: Duration = .seconds(120)) {
        self.store = store
        self.strategy = strategy
        self.healthCommand = healthCommand
        self.stepTimeout = stepTimeout
    }

    /// Stores the versions' object files and a signed release naming them.
    /// A release is the fleet's whole set of modules: `base` (the committed
    /// release, for a deploy of some modules only) gives the modules not
    /// shipped now, except those in `removing` (deleted from the project).
    public func publish(_ versions: [ShippedVersion], over base: FleetRelease? = nil, removing: Set<String> = []) throws(FleetFailure) -> FleetRelease {
        let shipped = Set(versions.map(\.module))
        var artifacts = (base?.artifacts ?? []).filter { !shipped.contains($0.module) && !removing.contains($0.module) }
        for version in versions {
            guard let bytes = readFile(version.path) else { throw .other("cannot read \(version.path)") }
            let sha256: String
            do { sha256 = try store.putArtifact(bytes) } catch { throw .etcd(error) }
            artifacts.append(FleetRelease.Artifact(
                module: version.module, version: version.version, key: version.key, file: version.fileName, sha256: sha256, size: bytes.count))
        }
        let release = FleetRelease(artifacts: artifacts, chunkSize: FleetStore.chunkSize, published: utcTime(now()))
        try store.putRelease(release)
        return release
    }

    /// How a rollout ended.
    public enum Ending: Sendable, Equatable {
        /// The release is the fleet's committed one.
        case committed
        /// The fleet already runs it: nothing to do.
        case alreadyCommitted
    }

    /// Rolls `release` out to the fleet's live nodes.
    public func rollOut(_ release: FleetRelease, progress: (String) -> Void) throws(FleetFailure) -> Ending {
        let control = try store.control()
        if let rollout = control.rollout {
            throw .other("a rollout of release \(rollout.release) is under way (\(rollout.phase.rawValue)); if its coordinator died, finish it with hot deploy --resume")
        }
        if control.committed == release.id { return .alreadyCommitted }
        let live = try store.nodes().keys.sorted()
        let rollout = FleetRollout(
            release: release.id, attempt: Hex.encode(randomBytes(8)), previous: control.committed, nodes: live, committed: [], phase: .staging,
            strategy: Self.describe(strategy), reason: nil)
        guard try store.swapRollout(rollout, ifAt: 0) else {
            throw .other("another coordinator started a rollout at the same moment; nothing was done")
        }
        progress("release \(release.id) (\(release.summary)) to \(live.count) node\(live.count == 1 ? "" : "s"): \(live.joined(separator: ", "))")
        return try drive(progress: progress)
    }

    /// Finishes the rollout a coordinator left (or rolls it back, if it was rolling back).
    public func resume(progress: (String) -> Void) throws(FleetFailure) -> Ending {
        guard let rollout = try store.control().rollout else { throw .other("no rollout is under way in fleet \(store.keys.fleet): nothing to resume") }
        progress("resuming the rollout of release \(rollout.release) (\(rollout.phase.rawValue), committed on \(rollout.committed.count) of \(rollout.nodes.count) nodes)")
        return try drive(progress: progress)
    }

    private func drive(progress: (String) -> Void) throws(FleetFailure) -> Ending {
        var (rollout, revision) = try current()
        if rollout.phase == .rollingBack { throw try rollBack(rollout, revision, because: rollout.reason ?? "the rollout was rolling back", progress) }
        if rollout.phase == .staging {
            let staged = try waitFor(rollout.nodes, "staging \(rollout.release)") { report in
                if report.release == rollout.release || report.staged == rollout.release { return .done }
                if report.state == .failed, report.failedAttempt == rollout.attempt { return .failed(report.reason ?? "failed") }
                return .waiting
            }
            if !staged.failures.isEmpty {
                _ = try store.endRollout(ifAt: revision, committing: nil)
                throw .other("staging failed, nothing was committed: \(staged.failures.map { "\($0.node): \($0.reason)" }.joined(separator: "; "))")
            }
            for node in staged.gone { progress("\(node): left the fleet while staging; it boots the committed release when it returns") }
            rollout.nodes = rollout.nodes.filter { !staged.gone.contains($0) }
            rollout.phase = .committing
            revision = try swap(rollout, revision)
            progress("staged on every node")
        }
        let batches = strategy.batches(count: rollout.nodes.count).map { $0.map { rollout.nodes[$0] } }
        for (position, batch) in batches.enumerated() {
            let fresh = batch.filter { !rollout.committed.contains($0) }
            if !fresh.isEmpty {
                rollout.committed += fresh
                revision = try swap(rollout, revision)
                progress("committing on \(fresh.joined(separator: ", "))")
            }
            let outcome = try checkRunning(rollout, batch)
            if let reason = outcome {
                throw try rollBack(rollout, revision, because: reason, progress)
            }
            if case .canary(_, let wait) = strategy, position == 0, !fresh.isEmpty, batches.count > 1 {
                // The canaries serve the new code for the wait; nothing ends it sooner.
                if wait > .zero { pause(for: wait) }
                if let reason = try checkRunning(rollout, batch) { throw try rollBack(rollout, revision, because: "after the canary wait: \(reason)", progress) }
            }
            progress("\(batch.joined(separator: ", ")): running \(rollout.release), healthy")
        }
        guard try store.endRollout(ifAt: revision, committing: rollout.release) else { throw lostRace() }
        return .committed
    }

    /// Nil once every node of `batch` runs the release and is healthy; else why not.
    private func checkRunning(_ rollout: FleetRollout, _ batch: [String]) throws(FleetFailure) -> String? {
        let running = try waitFor(batch, "committing \(rollout.release)") { report in
            if report.state == .failed, report.failedAttempt == rollout.attempt { return .failed(report.reason ?? "failed") }
            guard report.release == rollout.release else { return .waiting }
            return report.health == "ok" ? .done : .failed("unhealthy: \(report.health)")
        }
        if !running.failures.isEmpty { return running.failures.map { "\($0.node): \($0.reason)" }.joined(separator: "; ") }
        for node in running.gone { return "\(node): left the fleet while committing" }
        if let healthCommand {
            for node in batch {
                let environment = currentEnvironment() + ["HOT_NODE_NAME=\(node)", "HOT_FLEET=\(store.keys.fleet)"]
                do { try Rollout.runHealthCommand(healthCommand, environment: environment, timeout: stepTimeout) } catch {
                    return "\(node): \(error.description)"
                }
            }
        }
        return nil
    }

    /// Sends every committed node back to the previous release, waits for
    /// them, ends the rollout; the error to throw.
    private func rollBack(_ rollout: FleetRollout, _ revision: Int, because reason: String, _ progress: (String) -> Void) throws(FleetFailure) -> FleetFailure {
        var rollout = rollout
        // `committed` stays as it was: a coordinator resuming the rollback
        // knows which nodes to wait for; the phase alone sends them back.
        let touched = rollout.committed
        rollout.phase = .rollingBack
        rollout.reason = reason
        var revision = revision
        revision = try swap(rollout, revision)
        progress("rolling back \(touched.joined(separator: ", ")) to \(rollout.previous ?? "no release"): \(reason)")
        let back = try waitFor(touched, "rolling back") { report in
            report.release == rollout.previous && report.state != .staged ? .done : .waiting
        }
        _ = try store.endRollout(ifAt: revision, committing: nil)
        let stuck = back.failures.map { "\($0.node): \($0.reason)" }
        return .other("deploy failed and was rolled back: \(reason)" + (stuck.isEmpty ? "" : "; not back: \(stuck.joined(separator: "; "))"))
    }

    private enum Wait { case done, waiting, failed(String) }

    private struct Waited {
        var failures: [(node: String, reason: String)] = []
        /// Nodes whose lease ended meanwhile.
        var gone: [String] = []
    }

    /// Waits until `judge` says done or failed for every node of `nodes`,
    /// for `stepTimeout`; a node still waiting then fails. Woken by each
    /// change of the nodes' reports (a watch), not by a clock.
    private func waitFor(_ nodes: [String], _ step: String, judge: (FleetNodeReport) -> Wait) throws(FleetFailure) -> Waited {
        let deadline = ContinuousClock.now + stepTimeout
        while true {
            let revision: Int
            let reports: [String: FleetNodeReport]
            do {
                let listed = try store.etcd.list(prefix: store.keys.nodes)
                revision = listed.revision
                reports = listed.values.reduce(into: [:]) { all, kv in
                    if let report: FleetNodeReport = try? decodeRecord(kv.value, key: kv.key) { all[report.node] = report }
                }
            } catch { throw .etcd(error) }
            var waited = Waited()
            var pending: [String] = []
            for node in nodes {
                guard let report = reports[node] else {
                    waited.gone.append(node)
                    continue
                }
                switch judge(report) {
                case .done: break
                case .waiting: pending.append(node)
                case .failed(let reason): waited.failures.append((node, reason))
                }
            }
            if pending.isEmpty { return waited }
            if ContinuousClock.now >= deadline {
                waited.failures += pending.map { ($0, "no answer within \(stepTimeout.shortDescription) while \(step)") }
                return waited
            }
            do { _ = try store.etcd.watch(prefix: store.keys.nodes, from: revision + 1, wait: min(deadline.timeLeft, .seconds(2))) } catch {
                throw .etcd(error)
            }
        }
    }

    private func current() throws(FleetFailure) -> (FleetRollout, Int) {
        let control = try store.control()
        guard let rollout = control.rollout else { throw .other("the rollout record vanished: another coordinator ended it") }
        return (rollout, control.rolloutRevision)
    }

    /// Writes the rollout if nobody else did meanwhile; its new revision.
    private func swap(_ rollout: FleetRollout, _ revision: Int) throws(FleetFailure) -> Int {
        guard try store.swapRollout(rollout, ifAt: revision) else { throw lostRace() }
        let (_, now) = try current()
        return now
    }

    private func lostRace() -> FleetFailure {
        .other("another coordinator changed the rollout meanwhile; this one stopped (see hot fleet status)")
    }

    /// A strategy as the rollout record names it.
    public static func describe(_ strategy: Strategy) -> String {
        switch strategy {
        case .all: "all"
        case .rolling(let batch): "rolling:\(batch)"
        case .canary(let count, let wait): "canary:\(count):\(wait.shortDescription)"
        }
    }
}
