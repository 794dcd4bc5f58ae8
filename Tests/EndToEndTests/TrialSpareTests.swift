import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Testing

/// The spare trial child (`TrialSpare`): started ahead of time by a real
/// node, used by the next trial, replaced after each use or death, and never
/// left behind. Which process ran a trial is told by the module itself: its
/// on-load hook, run only in a trial child, appends that process's pid and
/// `HOT_TRIAL_LOAD` to a file of the test's.
@Suite("Spare trial child", .serialized)
struct TrialSpareTests {
    /// A project with `hello` v1, its node started by `hot start`; the node's pid.
    private static func startNode(_ scratch: Scratch) throws -> pid_t {
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
        return try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Builds and stages module `name` v1 whose on-load hook runs `onLoad`
    /// (Swift statements); its staged file name.
    private static func stage(_ scratch: Scratch, _ name: String, onLoad: String) throws -> String {
        let body = """
            import Glibc
            import Hot

            let module = HotModule(
                exports: [.function("v", { () -> Int in 1 })],
                onLoad: {
                    \(onLoad)
                })

            """
        let (path, file) = try ObjectBuilder.versionOne(in: scratch, name, body)
        try client(scratch).stage(path: path, fileName: file)
        return file
    }

    /// An on-load hook that, in a trial child, appends `PID HOT_TRIAL_LOAD` to `log`.
    private static func recordTrial(to log: String) -> String {
        """
        if let told = getenv("HOT_TRIAL_LOAD"), let file = fopen("\(log)", "a") {
                        fputs("\\(getpid()) \\(String(cString: told))\\n", file)
                        fclose(file)
                    }
        """
    }

    private static func client(_ scratch: Scratch) throws -> NodeClient {
        try NodeClient(address: .unix(path: scratch.path("app/.hot/node.sock")), cookieFile: scratch.path("app/.hot/cookie"))
    }

    /// Loads `file`; the refusal, or nil when it loaded.
    private static func load(_ scratch: Scratch, _ file: String) throws -> (code: ErrorCode, message: String)? {
        let client = try client(scratch)
        do throws(ClientError) {
            _ = try client.request(.load(files: [file], purge: false, force: false))
            return nil
        } catch {
            guard case .failed(let code, let message) = error else { throw error }
            return (code, message)
        }
    }

    /// The trials `log` recorded: pid and the path the child was told.
    private static func trials(_ log: String) -> [(pid: pid_t, path: String)] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let pid = pid_t(parts[0]) else { return nil }
            return (pid, String(parts[1]))
        }
    }

    /// A child of `parent` from /proc: its state letter (`Z` for a zombie,
    /// a child that ended and was not reaped) and whether it is a spare
    /// (`HOT_TRIAL_LOAD=-` in its environment; a zombie has none).
    struct Child {
        let pid: pid_t
        let state: Character
        let isSpare: Bool
    }

    static func children(of parent: pid_t) -> [Child] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Child? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "(comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == parent, let state = fields[0].first else { return nil }
            let environment = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            let isSpare = environment.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "HOT_TRIAL_LOAD=-" }
            return Child(pid: pid, state: state, isSpare: isSpare)
        }
    }

    /// Waits for `node`'s spare other than `not`: its pid.
    static func spare(of node: pid_t, not old: pid_t? = nil, seconds: Double = 10) throws -> pid_t {
        let deadline = monotonic() + seconds
        while monotonic() < deadline {
            if let spare = children(of: node).first(where: { $0.isSpare && $0.state != "Z" && $0.pid != old }) { return spare.pid }
            usleep(10_000)
        }
        Issue.record("no spare trial child of \(node) appeared in \(seconds) s; children: \(children(of: node))")
        throw CancellationError()
    }

    /// Whether `pid` has ended: gone from /proc, or a zombie.
    static func hasEnded(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return true
        }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    @Test("a trial runs in the spare started before the load request, told the object's path; a fresh spare replaces it and the used one is reaped")
    func trialUsesTheSpare() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try Self.startNode(scratch)
        let log = scratch.path("trials.log")
        let file = try Self.stage(scratch, "probe", onLoad: Self.recordTrial(to: log))
        let before = try Self.spare(of: node)

        #expect(try Self.load(scratch, file) == nil)
        let trials = Self.trials(log)
        #expect(trials.count == 1, "one trial, then the load in the node (which has no HOT_TRIAL_LOAD): \(trials)")
        #expect(trials.first?.pid == before, "the trial ran in \(trials.first?.pid ?? 0), not in the spare \(before) that waited")
        #expect(trials.first?.path.hasSuffix("/" + file) == true, "the spare's module sees the object's path: \(trials)")

        let fresh = try Self.spare(of: node, not: before)
        #expect(fresh != before)
        let deadline = monotonic() + 5
        while Self.children(of: node).contains(where: { $0.pid == before }) && monotonic() < deadline { usleep(10_000) }
        #expect(!Self.children(of: node).contains { $0.pid == before }, "the used spare must be reaped: \(Self.children(of: node))")
        #expect(try scratch.hot(["call", "probe:v"]).stdout == "1\n")
    }

    @Test("a trial that no load follows yet defers the spare's replacement: the fresh spare starts with the load, not beside the trial")
    func refillWaitsForTheLoad() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try Self.startNode(scratch)
        let log = scratch.path("trials.log")
        let file = try Self.stage(scratch, "probe", onLoad: Self.recordTrial(to: log))
        let before = try Self.spare(of: node)

        // The stage phase's check: the trial alone.
        let checkSent = Self.boottime()
        _ = try Self.client(scratch).request(.check(files: [file]))
        #expect(Self.trials(log).map(\.pid) == [before], "\(Self.trials(log))")
        // A pause no refill would wait out before: one started beside the
        // trial would be older than the load by at least this.
        usleep(300_000)
        let loadSent = Self.boottime()
        #expect(try Self.load(scratch, file) == nil)
        let fresh = try Self.spare(of: node, not: before)
        let started = try #require(Self.startTime(of: fresh))
        // Not before the load, or the bound on the deferral (Loader.refillDelay,
        // 2 s after the trial) when the load came later than that; /proc
        // counts in 10 ms ticks.
        let due = min(loadSent, checkSent + 2.0) - 0.02
        #expect(started >= due, "the fresh spare started \(Int((due - started) * 1000)) ms before the load asked for it")
        #expect(Self.trials(log).count == 1, "the load reuses the check's passed trial: \(Self.trials(log))")
    }

    /// Seconds since boot (CLOCK_BOOTTIME, the clock /proc's start times count on).
    static func boottime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// When `pid` started, in seconds since boot, from /proc (field 22, in ticks).
    static func startTime(of pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        // Fields from the state on: the state is field 3, the start time field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("a module that crashes in its on-load hook: refused, the node lives, and the next module passes its trial promptly in a fresh spare")
    func crashThenFreshSpare() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try Self.startNode(scratch)
        let log = scratch.path("trials.log")
        let crash = try Self.stage(scratch, "crash", onLoad: "raise(SIGSEGV)")
        let good = try Self.stage(scratch, "good", onLoad: Self.recordTrial(to: log))

        let first = try Self.spare(of: node)
        let refused = try #require(try Self.load(scratch, crash), "the crashing module was loaded")
        #expect(refused.code == .badFile && refused.message.contains("the trial load died: Segmentation fault"), "\(refused)")
        #expect(Scratch.isAlive(node) && !Self.hasEnded(node))

        let fresh = try Self.spare(of: node, not: first)
        let started = monotonic()
        #expect(try Self.load(scratch, good) == nil)
        let seconds = monotonic() - started
        print("load after a crashed trial: \(Int(seconds * 1000)) ms")
        #expect(Self.trials(log).map(\.pid) == [fresh], "the good module's trial must run in the fresh spare \(fresh): \(Self.trials(log))")
        #expect(seconds < 3, "the load took \(seconds) s")
        #expect(try scratch.hot(["call", "good:v"]).stdout == "1\n")
    }

    @Test("a spare killed by SIGKILL between loads: the next load still passes its trial, and the dead spare is reaped and replaced")
    func killedSpare() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try Self.startNode(scratch)
        let log = scratch.path("trials.log")
        let files = try (1...2).map { try Self.stage(scratch, "m\($0)", onLoad: Self.recordTrial(to: log)) }

        // Killed just before the load: the trial may find it dead, or find
        // its replacement starting; either way the load passes.
        let first = try Self.spare(of: node)
        kill(first, SIGKILL)
        #expect(try Self.load(scratch, files[0]) == nil)
        #expect(!Self.trials(log).map(\.pid).contains(first))

        // Killed while it waits: its keeper reaps it and starts another.
        let second = try Self.spare(of: node, not: first)
        kill(second, SIGKILL)
        let third = try Self.spare(of: node, not: second)
        let deadline = monotonic() + 5
        while Self.children(of: node).contains(where: { $0.pid == first || $0.pid == second }) && monotonic() < deadline { usleep(10_000) }
        #expect(!Self.children(of: node).contains { $0.pid == first || $0.pid == second }, "dead spares must be reaped: \(Self.children(of: node))")
        #expect(try Self.load(scratch, files[1]) == nil)
        #expect(Self.trials(log).last?.pid == third, "\(Self.trials(log)); the waiting spare was \(third)")
    }

    @Test("kill -9 of the node: its spare sees the end of its input and exits within two seconds")
    func spareEndsWithItsNode() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try Self.startNode(scratch)
        let spare = try Self.spare(of: node)
        // The supervisor starts another node; this spare is not its business.
        kill(node, SIGKILL)
        let started = monotonic()
        while !Self.hasEnded(spare) && monotonic() - started < 2 { usleep(10_000) }
        #expect(Self.hasEnded(spare), "the spare \(spare) outlived its node by 2 s")
    }

    @Test("HOT_TRIAL_SPARE=0: no spare, and trials still pass in children started on the spot")
    func spareOff() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        let started = try scratch.hot(["start"], environment: ["HOT_TRIAL_SPARE": "0"])
        try #require(started.status == 0, "\(started)")
        let node = try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        let log = scratch.path("trials.log")
        let file = try Self.stage(scratch, "probe", onLoad: Self.recordTrial(to: log))
        #expect(try Self.load(scratch, file) == nil)
        #expect(Self.trials(log).count == 1)
        usleep(300_000)
        #expect(!Self.children(of: node).contains { $0.isSpare }, "\(Self.children(of: node))")
    }
}
