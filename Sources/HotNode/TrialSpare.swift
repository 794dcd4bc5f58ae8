#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Logging

/// A trial child started ahead of time (docs/ARCHITECTURE.md, "A node that
/// outlives its modules and its clients"): the node's executable with
/// `HOT_TRIAL_LOAD=-`, its start-up done, blocked reading an object's path
/// on its standard input. A trial takes it (`take`) instead of paying for an
/// exec and a start-up on the load's path; after each trial the loader asks
/// for a fresh one (`prepare`), so a module that crashed its child harms no
/// later trial.
///
/// One spare at most, and who takes a child out of `State` owns it and reaps
/// it: the keeper thread while it starts or dies waiting, the trial that
/// took it, or `close`. A spare that does not say it is ready within the
/// trial deadline, or three in a row that end before they do (a host that
/// does not call `TrialLoad.runIfRequested()`), ends the spares for this
/// node: its trials start their children on the spot, and report the
/// host's mistake as they always did.
final class TrialSpare: @unchecked Sendable {
    // @unchecked: `state` is read and written only under `condition`'s lock.
    private let executable: String
    /// How long a spare may take to say it is ready.
    private let readyTimeout: Duration
    /// How long `close` waits for a keeper that is starting a spare: it
    /// kills that spare first, so the keeper is only reaping it.
    private static let keeperStopWait: Duration = .seconds(5)
    /// What `take` waits beyond a spare's own start-up bound: the keeper
    /// notes the spare ready a moment after the spare said so.
    private static let takeSlack: Duration = .seconds(1)
    private let logger: Logger?
    private let condition = Condition()
    private var state = State()

    private struct State {
        /// Said it is ready and waits for a path.
        var ready: Subprocess?
        /// Started, not ready yet; its keeper reaps it.
        var starting: Subprocess?
        /// A keeper thread is starting a spare, or reaping one.
        var keeping = false
        /// `close` was called: no spare from now on.
        var closed = false
        /// Spares in a row that ended before they said they were ready.
        var failedStarts = 0
        /// Spares did not say they were ready: this executable does not run them.
        var gaveUp = false
        /// The keeper starts no spare before this: a trial defers the refill
        /// past the load it precedes (`prepare(after:)`); the load, or
        /// `close`, ends the wait.
        var notBefore: ContinuousClock.Instant?
        /// The keeper is waiting for `notBefore`: no spare is starting yet.
        var deferring = false
    }

    init(executable: String, readyTimeout: Duration, logger: Logger?) {
        self.executable = executable
        self.readyTimeout = readyTimeout
        self.logger = logger
    }

    /// The nice value spares run at (the node's own is 0).
    static let spareNice: Int32 = 10

    /// Whether the node's environment leaves spares on (`HOT_TRIAL_SPARE` is not `0`).
    static var isEnabled: Bool {
        getenv(TrialLoad.spareVariable).map { String(cString: $0) } != "0"
    }

    /// Starts a spare in the background unless one is ready or starting;
    /// with `delay`, not before that much time has passed, or before the
    /// next `prepare()` without one. A trial asks with a delay and the load
    /// that follows it without: the spare's start-up (a whole start of the
    /// executable) then comes after the load rather than beside it, and in
    /// a fleet on shared cores, after the stage phase in which every node
    /// runs its trial (Benchmarks/NOTES.md, figure 5). The delay is the
    /// bound for a trial that no load follows.
    func prepare(after delay: Duration? = nil) {
        let start = condition.withLock {
            if let delay {
                let until = ContinuousClock.now + delay
                state.notBefore = max(state.notBefore ?? until, until)
            } else {
                state.notBefore = nil
                condition.broadcast()
            }
            guard state.ready == nil, !state.keeping, !state.closed, !state.gaveUp else { return false }
            state.keeping = true
            return true
        }
        guard start else { return }
        do {
            try startThread { [self] in keep() }
        } catch {
            // No thread for a keeper now: the next trial load starts its child itself.
            condition.withLock {
                state.keeping = false
                condition.broadcast()
            }
        }
    }

    /// The spare, alive and waiting, now the caller's to hand a path and
    /// reap; nil when there is none. A spare still starting is waited for:
    /// it is never slower than a child started now.
    func take() -> Subprocess? {
        let taken = condition.withLock { () -> Subprocess? in
            let deadline = ContinuousClock.now + readyTimeout + Self.takeSlack
            // A keeper still deferring its start has no spare to wait for.
            while state.keeping, state.ready == nil, !state.closed, !state.deferring {
                if !condition.wait(until: deadline) { break }
            }
            defer { state.ready = nil }
            return state.ready
        }
        guard let taken else { return nil }
        // Died while waiting, before its keeper saw it: ours to reap now.
        if taken.hasExited() {
            _ = taken.wait()
            return nil
        }
        return taken
    }

    /// Kills and reaps the spare, waits for a keeper that is starting one,
    /// and starts no more: what `Node.stop` does, so no spare outlives it.
    func close() {
        let ready = condition.withLock { () -> Subprocess? in
            state.closed = true
            // Under the lock: its keeper reaps it only after taking it out.
            state.starting?.signal(SIGKILL)
            defer { state.ready = nil }
            condition.broadcast()
            return state.ready
        }
        if let ready {
            ready.signal(SIGKILL)
            _ = ready.wait()
        }
        condition.withLock {
            let deadline = ContinuousClock.now + Self.keeperStopWait
            while state.keeping {
                if !condition.wait(until: deadline) { break }
            }
        }
    }

    /// Undoes `close` (a compaction that failed before its exec): spares
    /// start again.
    func reopen() {
        condition.withLock { state.closed = false }
        prepare()
    }

    /// The keeper, on a thread of its own with `keeping` set: starts a spare,
    /// publishes it once it says it is ready, then watches it; one that dies
    /// while it waits is reaped and replaced.
    private func keep() {
        // A spare's start-up (the whole executable's, a server's included) is
        // work for later: this thread, and so every spare it starts, runs at
        // a lower priority, and does not take the cores from the requests
        // the node serves meanwhile. A trial handed to the spare runs there
        // too; on an idle machine that costs nothing.
        lowerThreadPriority(nice: Self.spareNice)
        while waitUntilDue(), let child = start() {
            // Until it ends: it died waiting, or a trial or `close` took it.
            while true {
                do { if try Subprocess.firstExited(of: [child]) != nil { break } } catch { break }
            }
            let diedWaiting = condition.withLock {
                guard state.ready === child else { return false }
                state.ready = nil
                state.keeping = true
                return true
            }
            // Taken by a trial, or by `close`: theirs to reap.
            guard diedWaiting else { return }
            _ = child.wait()
            let again = condition.withLock {
                let again = !state.closed && !state.gaveUp
                if !again {
                    state.keeping = false
                    condition.broadcast()
                }
                return again
            }
            guard again else { return }
        }
    }

    /// Waits, as keeper, until a spare may start (`notBefore`); false, with
    /// `keeping` cleared, when `close` came first.
    private func waitUntilDue() -> Bool {
        condition.withLock {
            while let due = state.notBefore, !state.closed {
                if ContinuousClock.now >= due {
                    state.notBefore = nil
                    break
                }
                state.deferring = true
                _ = condition.wait(until: due)
            }
            state.deferring = false
            guard !state.closed else {
                state.keeping = false
                condition.broadcast()
                return false
            }
            return true
        }
    }

    /// Starts a spare and waits for it to say it is ready: the spare, now in
    /// `ready`, or nil with `keeping` cleared. One that ended before it was
    /// ready (killed, perhaps) is replaced at once, a few times in a row.
    private func start() -> Subprocess? {
        while true {
            switch startOnce() {
            case .ready(let child): return child
            case .again: continue
            case .none: return nil
            }
        }
    }

    private enum Start {
        case ready(Subprocess)
        case again
        case none
    }

    private func startOnce() -> Start {
        let child: Subprocess
        do {
            child = try Subprocess.spawn(
                executable, [], output: .capture, input: .socket, environment: TrialLoad.childEnvironment(TrialLoad.spareValue))
        } catch {
            logger?.warning("could not start a spare trial child: \(error)")
            finishKeeping(gaveUp: false)
            return .none
        }
        let open = condition.withLock {
            if !state.closed { state.starting = child }
            return !state.closed
        }
        let asked = ContinuousClock.now
        let ready = open && child.receiveLine(limit: 64, timeout: readyTimeout) == TrialLoad.readyLine
        let published = condition.withLock {
            state.starting = nil
            guard ready, !state.closed else { return false }
            state.ready = child
            state.keeping = false
            state.failedStarts = 0
            condition.broadcast()
            return true
        }
        if published { return .ready(child) }
        // Still running at the deadline: a host that went on to do its own
        // work. Ended before it was ready: killed, perhaps, so tried again,
        // up to a few times in a row. Told by the clock, not by `hasExited`:
        // a killed child closes its socket a moment before it can be waited for.
        let stillRunning = ContinuousClock.now - asked >= readyTimeout
        child.signal(SIGKILL)
        _ = child.wait()
        let (gaveUp, again) = condition.withLock { () -> (Bool, Bool) in
            guard open, !state.closed else { return (false, false) }
            state.failedStarts += 1
            let gaveUp = stillRunning || state.failedStarts >= Self.startsBeforeGivingUp
            return (gaveUp, !gaveUp)
        }
        if again { return .again }
        if gaveUp {
            logger?.warning(
                "\(executable) did not start as a spare trial child (\(stillRunning ? "not ready in \(readyTimeout.shortDescription)" : "it ended before it was ready")); each trial starts its own child (a server that embeds HotNode must call TrialLoad.runIfRequested() first thing in main)")
        }
        finishKeeping(gaveUp: gaveUp)
        return .none
    }

    /// Spares in a row that may end before they say they are ready.
    static let startsBeforeGivingUp = 3

    private func finishKeeping(gaveUp: Bool) {
        condition.withLock {
            if gaveUp { state.gaveUp = true }
            state.keeping = false
            condition.broadcast()
        }
    }
}
