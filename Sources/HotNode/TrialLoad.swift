#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire

/// The trial load: before a node loads an object for the first time, a
/// throwaway child process (the node's own executable with `--check FILE`)
/// opens it, checks its descriptor, runs its entry and its on-load hook. An
/// object that traps or crashes there takes down only the child, and the
/// node refuses it with the child's reason.
public enum TrialLoad {
    /// The flag that makes a node executable run a trial instead of serving.
    public static let flag = "--check"
    static let verdictPrefix = "hot-trial-verdict "

    /// In the child: runs the checks on `path`; exit status 0 when it loads.
    /// A server that embeds `HotNode` calls this first thing in `main` when
    /// its arguments start with `--check`.
    public static func runChild(path: String) -> Int32 {
        do {
            let image = try Loader(trialExecutable: nil).open(path)
            _ = try image.enterAndRunOnLoad()
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
    public static let defaultTimeout = 10.0
    /// How much of the child's output the node keeps: enough for a trap's
    /// message, and a module that writes without end costs the node nothing.
    static let outputLimit = 64 << 10
    /// The longest reason line a refusal carries.
    static let reasonLimit = 2_000

    /// In the node: runs the trial in a child, killed after `timeout`
    /// seconds; throws the child's reason.
    static func check(_ path: String, executable: String, timeout: Double) throws(LoadError) {
        let child: Subprocess
        do {
            // No backtracer in the child: a crash is the expected outcome of a
            // bad object, and its report would cost time and hide the reason.
            let environment = currentEnvironment().filter { !$0.hasPrefix("SWIFT_BACKTRACE=") } + ["SWIFT_BACKTRACE=enable=no"]
            child = try Subprocess.spawn(executable, [flag, path], output: .capture, environment: environment)
        } catch {
            throw .badFile(path: path, reason: "trial load could not start: \(error)")
        }
        let capture = child.waitCapturing(limit: outputLimit, timeout: timeout)
        if capture.timedOut { throw .trialTimedOut(path: path, seconds: timeout) }
        let status = capture.status
        guard status != 0 else { return }
        var lines = capture.output.split(separator: "\n").map(String.init)
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
}
