#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import Synchronization

/// Runs a node as its child and starts it again when it dies: Erlang's
/// `heart`, for a node run by `hot start` rather than by systemd (whose unit
/// says `Restart=on-failure`).
///
/// A module whose code kills the node at commit cannot be stopped by any
/// process boundary; the answer is recovery. The restarted node boots its
/// permanent set and refuses the build it died loading (`LoadJournal`).
/// Restarts back off (a quarter second, doubling) and stop after
/// `maxRestarts` within `window` seconds, so a crash loop does not spin.
public struct Supervisor: Sendable {
    /// The flag that makes a node executable supervise a node.
    public static let flag = SupervisorFlags.flag
    /// The environment variable that tells a supervised node its
    /// supervisor's pid, so that it notices the supervisor's death
    /// (`SupervisorWatch`). Kept across a compaction's exec, as the
    /// supervisor is still the parent there.
    public static let pidVariable = "HOT_SUPERVISOR_PID"
    /// The wait before the first restart after a crash; each further crash
    /// within the window doubles it, so a node that dies at once does not spin.
    static let firstRestartDelay: Duration = .milliseconds(250)
    /// The longest wait between restarts: long enough to calm a crash loop,
    /// short enough that a node that can run again soon does.
    static let longestRestartDelay: Duration = .seconds(8)
    /// The node executable and its arguments.
    public let executable: String
    public let arguments: [String]
    /// Restarts allowed within `window` before the supervisor gives up.
    public let maxRestarts: Int
    public let window: Duration
    /// A node that exits with an error sooner than this after its first
    /// start failed to start (a busy address, a bad option): not restarted.
    public let startGrace: Duration

    /// A supervisor of `executable arguments`.
    public init(
        executable: String, arguments: [String], maxRestarts: Int = 5, window: Duration = .seconds(60), startGrace: Duration = .seconds(2)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.maxRestarts = maxRestarts
        self.window = window
        self.startGrace = startGrace
    }

    /// Runs the node until it exits cleanly, is stopped, or dies too often;
    /// returns the status to exit with. SIGTERM, SIGINT and SIGHUP are
    /// passed to the node, which then stops cleanly, and so does this.
    /// Call it before any other thread starts: it blocks those signals.
    public func run(log: @escaping @Sendable (String) -> Void) -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let shared = Shared()
        let mask = signals
        do {
            try startThread {
                var set = mask
                var received: Int32 = 0
                while sigwait(&set, &received) == 0 {
                    shared.stopping.store(received, ordering: .sequentiallyConsistent)
                    shared.stopped.open()
                    let pid = shared.child.load(ordering: .sequentiallyConsistent)
                    if pid > 0 { kill(pid, received) }
                }
            }
        } catch {
            log("supervisor: no thread to wait for stop signals: \(error)")
            return 1
        }
        // The starter's ready socket goes to the first node alone: a node
        // started again finds nobody reading (docs/ARCHITECTURE.md, "Waiting").
        var ready = ReadyNotice.take()
        let environment = currentEnvironment().filter { !$0.hasPrefix(Self.pidVariable + "=") } + ["\(Self.pidVariable)=\(getpid())"]
        var policy = RestartPolicy(maxRestarts: maxRestarts, window: window, startGrace: startGrace)
        while true {
            let started = ContinuousClock.now
            let given = ready.take()
            let told = given.number == nil ? [] : ["\(ReadyNotice.variable)=\(Subprocess.passedDescriptor)"]
            let spawned: Result<Subprocess, SystemError>
            do throws(SystemError) {
                switch given {
                case .some(let end):
                    spawned = .success(try Subprocess.spawn(executable, arguments, output: .inherit, environment: environment + told, passing: end))
                case .none:
                    spawned = .success(try Subprocess.spawn(executable, arguments, output: .inherit, environment: environment + told))
                }
            } catch {
                spawned = .failure(error)
            }
            // Closed here once the node has its copy: the starter then reads
            // the socket's end if the node ends without the line.
            _ = consume given
            guard case .success(let node) = spawned else {
                if case .failure(let error) = spawned { log("supervisor: cannot start the node: \(error)") }
                return 1
            }
            shared.child.store(node.pid, ordering: .sequentiallyConsistent)
            // A stop that came before the pid was published reaches the node here.
            let early = shared.stopping.load(ordering: .sequentiallyConsistent)
            if early != 0 { node.signal(early) }
            // Unpublish the pid before reaping it, so that a stop signal never
            // reaches a process that reused the number.
            // (firstExited returns nil for a signal; a failed poll falls
            // through to the blocking reap below rather than spinning.)
            while (try? Subprocess.firstExited(of: [node]).map { _ in true } ?? false) == false {}
            shared.child.store(0, ordering: .sequentiallyConsistent)
            let status = node.wait()
            if shared.stopping.load(ordering: .sequentiallyConsistent) != 0 { return status }
            let delay: Duration
            let ended = ContinuousClock.now
            switch policy.decide(status: status, ranFor: ended - started, at: ended) {
            case .stop(let reason):
                if let reason { log("supervisor: \(reason); not restarting it") }
                return status
            case .restart(let after):
                delay = after
            }
            log("supervisor: the node \(Self.describe(status)); restarting it in \(delay.shortDescription)")
            // The back-off ends early only for a stop signal.
            if shared.stopped.wait(until: .now + delay) { return status }
        }
    }

    /// The restart rule, apart from processes so that it can be tested as a value.
    struct RestartPolicy: Sendable {
        let maxRestarts: Int
        let window: Duration
        let startGrace: Duration
        /// When each restart within the window happened.
        private var restarts: [ContinuousClock.Instant] = []
        /// Whether a node has ended before (a later early error is a crash, not a failed start).
        private var endedBefore = false

        init(maxRestarts: Int, window: Duration, startGrace: Duration) {
            self.maxRestarts = maxRestarts
            self.window = window
            self.startGrace = startGrace
        }

        /// What to do after the node ended.
        enum Decision: Equatable {
            /// Exit with the node's status; the reason is logged, if any.
            case stop(reason: String?)
            /// Start the node again after this long.
            case restart(after: Duration)
        }

        /// The node ended with `status` after running `ranFor`, at `time`: a
        /// clean exit stops, so does an error soon after the first start; a
        /// crash restarts, backing off from a quarter second and doubling,
        /// until `maxRestarts` within `window`.
        mutating func decide(status: Int32, ranFor: Duration, at time: ContinuousClock.Instant) -> Decision {
            defer { endedBefore = true }
            if status == 0 { return .stop(reason: nil) }
            if !endedBefore && status < 128 && ranFor < startGrace { return .stop(reason: nil) }
            restarts.removeAll { time - $0 > window }
            guard restarts.count < maxRestarts else {
                return .stop(reason: "the node died \(restarts.count + 1) times within \(window.shortDescription)")
            }
            let delay = min(Supervisor.longestRestartDelay, Supervisor.firstRestartDelay * (1 << restarts.count))
            restarts.append(time)
            return .restart(after: delay)
        }
    }

    /// The node's pid, and the stop signal once one came: shared with the signal thread.
    private final class Shared: Sendable {
        let child = Atomic<Int32>(0)
        let stopping = Atomic<Int32>(0)
        /// Opened with the first stop signal, for a back-off to end at once.
        let stopped = Latch()
    }

    /// "was killed by Aborted", "exited with status 3".
    static func describe(_ status: Int32) -> String {
        guard status > 128 else { return "exited with status \(status)" }
        let name = strsignal(status - 128).map { String(cString: $0) } ?? "signal \(status - 128)"
        return "was killed by \(name)"
    }
}
