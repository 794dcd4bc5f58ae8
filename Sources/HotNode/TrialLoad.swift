#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire

/// The trial load: before a node loads an object for the first time, a
/// throwaway child process (the node's own executable, with
/// `HOT_TRIAL_LOAD=FILE` in its environment) opens it, checks its descriptor,
/// runs its entry and its on-load hook. An object that traps or crashes there
/// takes down only the child, and the node refuses it with the child's reason.
///
/// The child is told by its environment, not its arguments, because the
/// executable may be a server that embeds `HotNode` and parses arguments of
/// its own: such a host calls `TrialLoad.runIfRequested()` first thing in
/// `main` (`NodeHost.init` calls it too), and `hotnode` does the same.
///
/// So that no load waits for that child's start-up, the node keeps one
/// started ahead of time (`TrialSpare`, told by `HOT_TRIAL_LOAD=-`): it
/// waits for the object's path on its standard input, then runs the same
/// trial and says the same lines.
public enum TrialLoad {
    /// The environment variable that makes a node executable run the trial
    /// of the object it names, and exit, instead of doing anything else. A
    /// module's code can read it to know it runs in a trial.
    public static let environmentVariable = "HOT_TRIAL_LOAD"
    /// The value of `HOT_TRIAL_LOAD` that makes a spare: the child says
    /// `readyLine` on its standard input socket, reads the object's path from
    /// it, and runs that trial.
    static let spareValue = "-"
    /// The environment variable that, set to `0` in the node's environment,
    /// makes every trial start its child on the spot (no spare).
    public static let spareVariable = "HOT_TRIAL_SPARE"
    /// What a spare says once its start-up is done and it waits for a path.
    static let readyLine = "hot-trial-ready"
    /// The flag that makes `hotnode` run a trial by hand (`hotnode --check FILE`).
    public static let flag = "--check"
    static let verdictPrefix = "hot-trial-verdict "
    /// The child's first line, written before it opens the object: a child
    /// without it never ran the trial (a host that does not call
    /// `runIfRequested`), whatever its exit status says.
    static let startedLine = "hot-trial-started"
    /// The start of the line a passed trial says for each export:
    /// `hot-trial-export NAME\tEXACT TYPE\tSHOWN TYPE` (see `ExportType`).
    static let exportPrefix = "hot-trial-export "

    /// In a trial child (`HOT_TRIAL_LOAD` set): runs the trial and exits
    /// with its verdict; otherwise returns at once. A server that embeds
    /// `HotNode` calls this first thing in `main`, before it parses its
    /// arguments or binds a port.
    public static func runIfRequested() {
        guard let path = getenv(environmentVariable).map({ String(cString: $0) }) else { return }
        exit(path == spareValue ? runSpare() : runChild(path: path))
    }

    /// A spare: says it is ready, waits for a path on standard input (a
    /// socket, `Subprocess.Input.socket`), then runs that trial. End of input
    /// (the node stopped, or died however it died) ends it quietly: that end
    /// is how a spare never outlives its node. (PR_SET_PDEATHSIG would not
    /// do: it fires when the spawning thread ends, not the node.)
    static func runSpare() -> Int32 {
        // What every trial computes anyway, done before the path comes.
        _ = HostFingerprint.current
        let ready = Array("\(readyLine)\n".utf8)
        guard ready.withUnsafeBytes({ send(0, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == ready.count else { return 0 }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = (try? SystemError.retrying("read") { read(0, &byte, 1) }) ?? -1
            guard n == 1, line.count < 1 << 16 else { return 0 }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        let path = String(decoding: line, as: UTF8.self)
        // The module sees what a one-shot child's module sees: the object's path.
        setenv(environmentVariable, path, 1)
        return runChild(path: path)
    }

    /// Runs the checks on `path` in this process; exit status 0 when it loads.
    public static func runChild(path: String) -> Int32 {
        // Unbuffered, before anything of the object runs: a crash must not lose it.
        _ = writeAll(2, Array("\(startedLine)\n".utf8))
        // Module code that reaches the node in its hook meets a stand-in.
        Runtime.install(TrialRuntime())
        do {
            let image = try Loader(trialExecutable: nil).open(path)
            let module = try image.enterAndRunOnLoad()
            // The types as this executable's runtime names them: the node,
            // which runs the same executable, compares them with what its
            // typed handles call (docs/ARCHITECTURE.md, "Typed handles").
            for export in module.exports where !export.name.contains(where: { $0 == "\t" || $0 == "\n" }) {
                let type = ExportType(of: export)
                print("\(exportPrefix)\(export.name)\t\(type.exact)\t\(type.shown)")
            }
            print("ok \(image.descriptor.name) v\(image.descriptor.version)")
            return 0
        } catch {
            // The verdict's code first, so that the node reports a mismatch
            // as a mismatch and not as a bad file.
            let code = error.code
            _ = writeAll(2, Array("\(verdictPrefix)\(code.rawValue)\n\(error)\n".utf8))
            return 1
        }
    }

    /// How long a trial load may take unless the node is told otherwise.
    public static let defaultTimeout: Duration = Request.defaultTrialTimeout
    /// How much of the child's output the node keeps: enough for a trap's
    /// message, and a module that writes without end costs the node nothing.
    static let outputLimit = 64 << 10
    /// The longest reason line a refusal carries.
    static let reasonLimit = 2_000

    /// In the node: runs the trial in `spare`'s waiting child if it has one,
    /// else in a child started now, killed after `timeout`; throws
    /// the child's reason. Whether the trial ran in the spare, and the
    /// types of the module's exports (nil when its output was cut).
    @discardableResult
    static func check(
        _ path: String, executable: String, timeout: Duration, spare: TrialSpare? = nil
    ) throws(LoadError) -> (inSpare: Bool, exports: [String: ExportType]?) {
        if let child = spare?.take(), let capture = run(path, in: child, timeout: timeout) {
            return (true, try judge(capture, path: path, executable: executable, timeout: timeout))
        }
        let child: Subprocess
        do {
            child = try Subprocess.spawn(executable, [], output: .capture, environment: childEnvironment(path))
        } catch {
            throw .badFile(path: path, reason: "trial load could not start: \(error)")
        }
        return (false, try judge(child.waitCapturing(limit: outputLimit, timeout: timeout), path: path, executable: executable, timeout: timeout))
    }

    /// The environment of a trial child told `value` (a path, or `spareValue`).
    static func childEnvironment(_ value: String) -> [String] {
        // No backtracer in the child: a crash is the expected outcome of a
        // bad object, and its report would cost time and hide the reason.
        currentEnvironment().filter { !$0.hasPrefix("SWIFT_BACKTRACE=") && !$0.hasPrefix(environmentVariable + "=") }
            + ["SWIFT_BACKTRACE=enable=no", "\(environmentVariable)=\(value)"]
    }

    /// Hands `path` to a spare and reads its trial; nil when the spare never
    /// started it (it died before, or as, the path came): nothing of the
    /// object ran, and the trial runs in a child started on the spot.
    private static func run(_ path: String, in spare: Subprocess, timeout: Duration) -> Subprocess.Capture? {
        do {
            try spare.send(Array("\(path)\n".utf8))
        } catch {
            spare.signal(SIGKILL)
            _ = spare.wait()
            return nil
        }
        spare.shutdownInput()
        let capture = spare.waitCapturing(limit: outputLimit, timeout: timeout)
        guard capture.output.split(separator: "\n").contains(Substring(startedLine)) else { return nil }
        return capture
    }

    /// The verdict of a trial child's output and exit status; for a passed
    /// trial, the export types it said.
    private static func judge(
        _ capture: Subprocess.Capture, path: String, executable: String, timeout: Duration
    ) throws(LoadError) -> [String: ExportType]? {
        var lines = capture.output.split(separator: "\n").map(String.init)
        guard let started = lines.firstIndex(of: startedLine) else {
            throw .trialFailed(path: path, reason: notStarted(executable, capture), code: .badFile)
        }
        lines.remove(at: started)
        if capture.timedOut { throw .trialTimedOut(path: path, after: timeout) }
        let status = capture.status
        guard status != 0 else { return capture.truncated ? nil : exportTypes(lines) }
        var code = ErrorCode.badFile
        if let verdict = lines.firstIndex(where: { $0.hasPrefix(verdictPrefix) }) {
            code = ErrorCode(rawValue: String(lines[verdict].dropFirst(verdictPrefix.count))) ?? .badFile
            lines.remove(at: verdict)
        }
        var lastLine = lines.first { $0.contains("Fatal error") } ?? lines.last ?? ""
        if lastLine.utf8.count > reasonLimit { lastLine = String(decoding: lastLine.utf8.prefix(reasonLimit), as: UTF8.self) + "…" }
        let cut = capture.truncated ? "; its output was cut at \(outputLimit >> 10) KiB" : ""
        if status > 128 {
            let signal = status - 128
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            throw .trialFailed(path: path, reason: "the trial load died: \(name)\(lastLine.isEmpty ? "" : " (\(lastLine))")\(cut)", code: .badFile)
        }
        throw .trialFailed(path: path, reason: (lastLine.isEmpty ? "the trial load failed (status \(status))" : lastLine) + cut, code: code)
    }

    /// The export types a passed trial said, by export name; the first of a name counts.
    private static func exportTypes(_ lines: [String]) -> [String: ExportType] {
        var types: [String: ExportType] = [:]
        for line in lines where line.hasPrefix(exportPrefix) {
            let fields = line.dropFirst(exportPrefix.count).split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3, types[String(fields[0])] == nil else { continue }
            types[String(fields[0])] = ExportType(exact: String(fields[1]), shown: String(fields[2]))
        }
        return types
    }

    /// Why a child that never started the trial is refused: its executable
    /// did not act on `HOT_TRIAL_LOAD` before doing something else.
    private static func notStarted(_ executable: String, _ capture: Subprocess.Capture) -> String {
        let what = capture.timedOut ? "was still running at the deadline" : "exited with status \(capture.status)"
        return "the trial load did not run: \(executable) \(what) without running it; "
            + "a server that embeds HotNode must call TrialLoad.runIfRequested() first thing in main"
    }
}
