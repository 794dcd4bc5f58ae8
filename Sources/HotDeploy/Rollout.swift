#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire

/// One node of a rollout.
public struct RolloutTarget: Sendable {
    /// The node's name in the inventory.
    public let name: String
    /// Where it listens.
    public let address: NodeAddress
    /// Its cookie file.
    public let cookieFile: String

    /// A target from its parts.
    public init(name: String, address: NodeAddress, cookieFile: String) {
        self.name = name
        self.address = address
        self.cookieFile = cookieFile
    }
}

/// A version to ship: where its object lives and what it is.
public struct ShippedVersion: Sendable, Equatable {
    public let module: String
    public let version: Int
    public let key: String
    /// The object file's path on this machine.
    public let path: String

    public init(module: String, version: Int, key: String, path: String) {
        self.module = module
        self.version = version
        self.key = key
        self.path = path
    }

    var fileName: String { lastPathComponent(path) }
}

/// What happened on one node.
public struct NodeOutcome: Sendable {
    /// Where a node got to.
    public enum State: String, Sendable {
        case unchanged, staged, committed, healthy, permanent, rolledBack = "rolled back", failed
    }

    public let node: String
    public var state: State
    /// Per module: the version before and after.
    public var changes: [VersionChange]
    /// Why it failed, when it did.
    public var reason: String?
}

/// What a rollout reports as it goes: one line per node per step.
public typealias RolloutProgress = @Sendable (_ node: String, _ state: NodeOutcome.State, _ detail: String) -> Void

/// Ships versions to many nodes the way release_handler ships to one:
/// staged (uploaded, verified, trial-loaded) everywhere before anything
/// changes; committed by a strategy; checked; made permanent; and rolled back
/// on the nodes already committed when a health check fails.
public struct Rollout: Sendable {
    public let targets: [RolloutTarget]
    public let strategy: Strategy
    public let purge: Bool
    public let force: Bool
    public let temporary: Bool
    /// A command run per committed node (HOT_NODE, HOT_NODE_NAME set); exit 0 is healthy.
    public let healthCommand: String?
    /// Nodes worked on at once while staging and committing.
    public let parallelism: Int
    /// Seconds a step (staging, a commit batch and its checks, a rollback,
    /// making permanent) may take on all its nodes; a node still busy then fails.
    public let stepTimeout: Duration

    public init(targets: [RolloutTarget], strategy: Strategy = .all, purge: Bool = false, force: Bool = false,
                temporary: Bool = false, healthCommand: String? = nil, parallelism: Int = 16, stepTimeout: Duration = .seconds(600)) {
        self.targets = targets
        self.strategy = strategy
        self.purge = purge
        self.force = force
        self.temporary = temporary
        self.healthCommand = healthCommand
        self.parallelism = max(1, parallelism)
        self.stepTimeout = stepTimeout
    }

    /// Why a rollout stopped.
    public enum Failure: Error, Sendable {
        /// A node could not be reached or refused the cookie while staging: nothing was committed.
        case unreachable([NodeOutcome])
        /// Staging failed somewhere: nothing was committed.
        case stagingFailed([NodeOutcome])
        /// A commit or health check failed: the committed nodes were rolled back.
        case commitFailed([NodeOutcome])
    }

    /// Runs the rollout; returns every node's outcome.
    public func run(_ versions: [ShippedVersion], progress: @escaping RolloutProgress) throws(Failure) -> [NodeOutcome] {
        // Phase 1: stage on every node, in parallel; nothing changes yet.
        let staged = forEach(targets, overdue: { target in overdue(target, progress) }) { target in stage(target, versions, progress) }
        if staged.contains(where: { $0.outcome.state == .failed }) {
            let outcomes = staged.map(\.outcome)
            if staged.contains(where: \.unreachable) { throw .unreachable(outcomes) }
            throw .stagingFailed(outcomes)
        }
        // Phase 2: commit by strategy, health checked between batches.
        var outcomes = staged.map(\.outcome)
        var committed: [Int] = []
        for (position, batch) in strategy.batches(count: staged.count).enumerated() {
            let results = forEach(batch, overdue: { index in overdue(staged[index].outcome, progress) }) { index in commit(staged[index], progress) }
            for (index, result) in zip(batch, results) { outcomes[index] = result }
            if case .canary(_, let wait) = strategy, position == 0, !batch.contains(where: { outcomes[$0].state == .failed }) {
                // The canaries run the new code for the wait; then they are
                // checked again, and only a healthy canary lets the rest go on.
                // The wait is the point: the canaries serve for that long,
                // and no event could end it sooner.
                if wait > .zero { pause(for: wait) }
                let current = outcomes
                let rechecked = forEach(batch, overdue: { index in overdue(current[index], progress) }) { index in
                    recheck(staged[index], current[index], progress)
                }
                for (index, result) in zip(batch, rechecked) { outcomes[index] = result }
            }
            committed += batch.filter { outcomes[$0].state == .healthy }
            if batch.contains(where: { outcomes[$0].state == .failed }) {
                // Roll back every node that took the new versions, failed ones too.
                let touched = committed + batch.filter { outcomes[$0].state == .failed && !outcomes[$0].changes.isEmpty }
                let current = outcomes
                let rolled = forEach(touched, overdue: { index in overdue(current[index], progress) }) { index in
                    rollback(staged[index], current[index], progress)
                }
                for (index, result) in zip(touched, rolled) { outcomes[index] = result }
                throw .commitFailed(outcomes)
            }
        }
        // Phase 3: permanent, unless told to stay temporary.
        guard !temporary else { return outcomes }
        let final = outcomes
        let made = forEach(Array(staged.indices), overdue: { index in overdue(final[index], progress) }) { index in
            makePermanent(staged[index], final[index], progress)
        }
        return made
    }

    private struct Staged: @unchecked Sendable {
        // @unchecked: the client is used by one thread at a time.
        let target: RolloutTarget
        let client: NodeClient?
        let needed: [ShippedVersion]
        let previous: [String: Int]
        /// Shipped modules the node runs already but would not boot after a restart.
        let notPermanent: [String]
        var outcome: NodeOutcome
        var unreachable = false
    }

    /// A `Staged` that failed before anything was staged.
    private static func failedStage(_ target: RolloutTarget, _ reason: String, unreachable: Bool) -> Staged {
        Staged(target: target, client: nil, needed: [], previous: [:], notPermanent: [],
               outcome: NodeOutcome(node: target.name, state: .failed, changes: [], reason: reason), unreachable: unreachable)
    }

    /// A node that did not finish a step within `stepTimeout`. Its changes
    /// are dropped, so that no later step talks over the connection its
    /// worker still holds; the reason says what may be left behind.
    private func overdue(_ outcome: NodeOutcome, _ progress: RolloutProgress) -> NodeOutcome {
        var outcome = outcome
        let late = "no answer within \(stepTimeout.shortDescription)"
            + (outcome.state == .unchanged ? "" : "; not rolled back: it may run the new versions")
        outcome.reason = [outcome.reason, late].compactMap { $0 }.joined(separator: "; ")
        outcome.state = .failed
        outcome.changes = []
        progress(outcome.node, .failed, late)
        return outcome
    }

    /// A node whose staging did not finish within `stepTimeout`: nothing was committed there.
    private func overdue(_ target: RolloutTarget, _ progress: RolloutProgress) -> Staged {
        let reason = "no answer within \(stepTimeout.shortDescription) while staging"
        progress(target.name, .failed, reason)
        return Self.failedStage(target, reason, unreachable: false)
    }

    private func stage(_ target: RolloutTarget, _ versions: [ShippedVersion], _ progress: RolloutProgress) -> Staged {
        func failed(_ reason: String, unreachable: Bool = false) -> Staged {
            progress(target.name, .failed, reason)
            return Self.failedStage(target, reason, unreachable: unreachable)
        }
        let client: NodeClient
        do { client = try NodeClient(address: target.address, cookieFile: target.cookieFile) } catch {
            return failed(error.description, unreachable: error.isUnreachable)
        }
        do throws(ClientError) {
            let status = try client.request(.status)
            var running: [String: (key: String, version: Int)] = [:]
            var permanent: [String: Int] = [:]
            for module in status.modules {
                if let current = module.current {
                    running[module.name] = (current.key, current.version)
                    permanent[module.name] = module.permanent
                }
            }
            let needed = versions.filter { running[$0.module]?.key != $0.key }
            // A node already running a shipped version from a temporary deploy:
            // this deploy makes it permanent all the same.
            let notPermanent = versions.filter { running[$0.module]?.key == $0.key && permanent[$0.module] != $0.version }.map(\.module)
            for version in needed { try client.stage(path: version.path, fileName: version.fileName) }
            if !needed.isEmpty { _ = try client.request(.check(files: needed.map(\.fileName))) }
            let state: NodeOutcome.State = needed.isEmpty ? .unchanged : .staged
            progress(target.name, state, needed.map { "\($0.module) v\($0.version)" }.joined(separator: ", "))
            return Staged(target: target, client: client, needed: needed, previous: running.mapValues(\.version),
                          notPermanent: notPermanent, outcome: NodeOutcome(node: target.name, state: state, changes: [], reason: nil))
        } catch {
            return failed(error.description, unreachable: error.isUnreachable)
        }
    }

    private func commit(_ staged: Staged, _ progress: RolloutProgress) -> NodeOutcome {
        var outcome = staged.outcome
        guard let client = staged.client, !staged.needed.isEmpty else {
            outcome.state = .healthy
            return outcome
        }
        do throws(ClientError) {
            let result = try client.request(.load(files: staged.needed.map(\.fileName), purge: purge, force: force))
            outcome.changes = result.modules.map(VersionChange.init)
            outcome.state = .committed
            progress(staged.target.name, .committed, outcome.changes.map { change in
                var text = "\(change.module) \(change.from.map { "v\($0)" } ?? "none") -> v\(change.to)"
                if !change.work.stopped.isEmpty { text += " (purged: stopped \(change.work.stopped.map(\.description).joined(separator: " ")))" }
                if !change.work.stubborn.isEmpty { text += " (\(change.work.stubborn.map(\.description).joined(separator: " ")) would not stop; their code stays mapped)" }
                if change.work.cancelledCalls > 0 { text += " (purged: cancelled \(change.work.cancelledCalls) calls in flight)" }
                if change.work.unendedCalls > 0 { text += " (\(change.work.unendedCalls) cancelled calls did not end; their code stays mapped)" }
                // "; " between tasks: a single node's deploy prints each module's text on a line of its own, split at commas.
                if !change.work.cancelledTasks.isEmpty { text += " (purged: cancelled tracked tasks \(change.work.cancelledTasks.joined(separator: "; ")))" }
                if !change.work.unendedTasks.isEmpty { text += " (tracked tasks \(change.work.unendedTasks.joined(separator: "; ")) did not end; their code stays mapped)" }
                return text
            }.joined(separator: ", "))
            let failures = outcome.changes.flatMap(\.codeChangeFailures)
            if !failures.isEmpty {
                throw ClientError.failed(code: .failed, message: "codeChange failed in \(failures.map { "\($0.pid): \($0.reason)" }.joined(separator: "; "))")
            }
            try healthCheck(staged.target, client, modules: staged.needed.map(\.module))
            outcome.state = .healthy
            progress(staged.target.name, .healthy, "")
        } catch {
            outcome.state = .failed
            outcome.reason = (outcome.changes.isEmpty ? deathInLoad(error, staged.target, loading: staged.needed) : nil) ?? error.description
            progress(staged.target.name, .failed, error.description)
        }
        return outcome
    }

    /// The canaries' second health check, after the wait.
    private func recheck(_ staged: Staged, _ outcome: NodeOutcome, _ progress: RolloutProgress) -> NodeOutcome {
        var outcome = outcome
        guard let client = staged.client, !staged.needed.isEmpty else { return outcome }
        do throws(ClientError) {
            try healthCheck(staged.target, client, modules: staged.needed.map(\.module))
        } catch {
            outcome.state = .failed
            outcome.reason = "after the canary wait: \(error.description)"
            progress(staged.target.name, .failed, outcome.reason ?? "")
        }
        return outcome
    }

    /// A module's exported `health` function (no arguments; `true` or `"ok"`
    /// is healthy), then the health command, if any.
    private func healthCheck(_ target: RolloutTarget, _ client: NodeClient, modules: [String]) throws(ClientError) {
        let status = try client.request(.status)
        for module in status.modules where modules.contains(module.name) && module.current?.exports.contains("health") == true {
            let name = module.name
            let answer = try client.request(.call(module: name, function: "health", args: [])).result
            guard answer == .bool(true) || answer == .string("ok") else {
                throw .failed(code: .failed, message: "health check \(name):health answered \(JSON.render(answer))")
            }
        }
        guard let healthCommand else { return }
        let environment = currentEnvironment() + ["HOT_NODE=\(target.address)", "HOT_NODE_NAME=\(target.name)"]
        try Self.runHealthCommand(healthCommand, environment: environment, timeout: stepTimeout)
    }

    /// The most of a health command's output kept, for the last line its
    /// failure quotes; the rest is read and dropped.
    static let healthOutputLimit = 4096

    /// Runs `command` with `sh -c`; throws when it exits other than 0, quoting
    /// its last line of output, or when it runs past `timeout` (it is killed).
    static func runHealthCommand(_ command: String, environment: [String], timeout: Duration) throws(ClientError) {
        let capture: Subprocess.Capture
        do {
            let child = try Subprocess.spawn("/bin/sh", ["-c", command], output: .capture, environment: environment)
            capture = child.waitCapturing(limit: healthOutputLimit, timeout: timeout)
        } catch {
            throw .failed(code: .failed, message: "health command could not run: \(error)")
        }
        if capture.timedOut { throw .failed(code: .failed, message: "health command did not end within \(timeout.shortDescription); killed") }
        guard capture.status == 0 else {
            let last = capture.output.split(separator: "\n").last.map(String.init) ?? ""
            throw .failed(code: .failed, message: "health command exited \(capture.status)\(last.isEmpty ? "" : ": \(last)")")
        }
    }

    private func rollback(_ staged: Staged, _ outcome: NodeOutcome, _ progress: RolloutProgress) -> NodeOutcome {
        var outcome = outcome
        guard let client = staged.client else { return outcome }
        var problems: [String] = []
        for change in outcome.changes {
            do {
                if change.from != nil {
                    _ = try client.request(.rollback(module: change.module))
                } else {
                    _ = try client.request(.delete(module: change.module))
                }
            } catch {
                problems.append("\(change.module): \(error)")
            }
        }
        let reason = outcome.reason
        outcome.state = problems.isEmpty ? .rolledBack : .failed
        outcome.reason = ([reason].compactMap { $0 } + problems).joined(separator: "; ").nilIfEmpty
        progress(staged.target.name, outcome.state, problems.isEmpty ? "back on the versions it ran" : problems.joined(separator: "; "))
        return outcome
    }

    private func makePermanent(_ staged: Staged, _ outcome: NodeOutcome, _ progress: RolloutProgress) -> NodeOutcome {
        var outcome = outcome
        let modules = outcome.changes.map(\.module) + staged.notPermanent
        guard let client = staged.client, !modules.isEmpty else { return outcome }
        do {
            _ = try client.request(.makePermanent(modules: modules))
            outcome.state = .permanent
            progress(staged.target.name, .permanent, "")
        } catch {
            outcome.reason = "not made permanent: \(error)"
            progress(staged.target.name, .failed, outcome.reason ?? "")
        }
        return outcome
    }

    /// Runs `body` for each item on up to `parallelism` threads and waits
    /// for them at most `stepTimeout`; results in order, `overdue(item)` for
    /// an item not done by then (its worker goes on, and its result is dropped).
    private func forEach<T: Sendable, R: Sendable>(
        _ items: [T], overdue: (T) -> R, _ body: @escaping @Sendable (T) -> R
    ) -> [R] {
        let done = concurrentMap(items, width: parallelism, timeout: stepTimeout, body)
        return zip(items, done).map { item, result in result ?? overdue(item) }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}


