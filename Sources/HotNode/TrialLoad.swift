#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotWire

/// The trial load: before a node loads an object for the first time, a
/// throwaway child process (the node's own executable with `--check FILE`)
/// opens it, checks its descriptor, runs its entry and its on-load hook. An
/// object that traps or crashes there takes down only the child, and the
/// node refuses it with the child's reason.
public enum TrialLoad {
    /// The flag that makes a node executable run a trial instead of serving.
    public static let flag = "--check"

    /// In the child: runs the checks on `path`; exit status 0 when it loads.
    /// A server that embeds `HotNode` calls this first thing in `main` when
    /// its arguments start with `--check`.
    public static func runChild(path: String) -> Int32 {
        do {
            let image = try Loader.open(path)
            let module = try Loader.enter(image)
            if let onLoad = module.onLoad {
                do { try onLoad() } catch { throw LoadError.onLoadFailure(module: image.descriptor.name, message: "\(error)") }
            }
            print("ok \(image.descriptor.name) v\(image.descriptor.version)")
            return 0
        } catch {
            _ = writeAll(2, Array("\(error)\n".utf8))
            return 1
        }
    }

    /// In the node: runs the trial in a child; throws the child's reason.
    static func check(_ path: String, executable: String) throws(LoadError) {
        let child: Subprocess
        do {
            // No backtracer in the child: a crash is the expected outcome of a
            // bad object, and its report would cost time and hide the reason.
            let environment = currentEnvironment().filter { !$0.hasPrefix("SWIFT_BACKTRACE=") } + ["SWIFT_BACKTRACE=enable=no"]
            child = try Subprocess.spawn(executable, [flag, path], output: .capture, environment: environment)
        } catch {
            throw .badFile(path: path, reason: "trial load could not start: \(error)")
        }
        let (status, output) = child.waitCapturing()
        guard status != 0 else { return }
        let lines = output.split(separator: "\n").map(String.init)
        let lastLine = lines.first { $0.contains("Fatal error") } ?? lines.last ?? ""
        if status > 128 {
            let signal = status - 128
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            throw .trialFailed(path: path, reason: "the trial load died: \(name)\(lastLine.isEmpty ? "" : " (\(lastLine))")")
        }
        throw .trialFailed(path: path, reason: lastLine.isEmpty ? "the trial load failed (status \(status))" : lastLine)
    }
}
