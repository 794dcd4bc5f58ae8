#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotNode
import HotPlatform
import Logging
import Synchronization

/// Fixture folders to remove when the process exits: a benchmark may keep
/// its fixture in a global that is never released.
private let leftovers = Mutex<[String]>([])

private func removeAtExit(_ root: String) {
    let first = leftovers.withLock { roots in
        roots.append(root)
        return roots.count == 1
    }
    if first { atexit { for root in leftovers.withLock({ $0 }) { removeTree(root) } } }
}

/// A hot project in a temporary folder, its modules built by the real `hot`
/// (HOT_BIN names the folder of a release build), loaded into a node inside
/// this process.
public final class Fixture: @unchecked Sendable {
    public let root: String
    public let node: Node
    let hot: String

    public init() throws {
        guard let bin = getenv("HOT_BIN").map({ String(cString: $0) }) else {
            throw FixtureError("set HOT_BIN to the folder of a release build of hot")
        }
        hot = bin + "/hot"
        var template = Array("/tmp/hot-bench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed") }
        root = String(cString: made)
        removeAtExit(root)
        try Fixture.run([hot, "init", "app"], in: root)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        // No trial loads here: a deploy trial-loads while staging, before the
        // commit these benchmarks time.
        node = Node(name: "bench", store: try Store(root: root + "/app/.hot/node"), codePath: nil, trialExecutable: nil, logger: logger)
    }

    deinit { removeTree(root) }

    /// Writes a module's one source file.
    public func write(module: String, _ source: String) throws {
        try makeDirectories("\(root)/app/modules/\(module)")
        try writeFileAtomically("\(root)/app/modules/\(module)/\(module).swift", Array(source.utf8))
    }

    /// Builds a module with hot and returns the object's path.
    public func build(_ module: String, release: Bool = true) throws -> String {
        let output = try Fixture.run([hot, "build", module, "--json"] + (release ? ["--release"] : []), in: root + "/app")
        guard let term = try? JSON.parse(output), let entry = term["modules"]?.listValue?.first,
            let file = entry["file"]?.stringValue
        else { throw FixtureError("unexpected hot build output: \(output)") }
        return "\(root)/app/.hot/build/\(module)/\(file)"
    }

    /// Runs a command in a folder; its output, or a thrown error on failure.
    @discardableResult
    static func run(_ argv: [String], in directory: String) throws -> String {
        let script = "cd '\(directory)' && exec \"$@\""
        let child = try Subprocess.spawn("/bin/sh", ["-c", script, "sh"] + argv)
        // A build's output, a few KiB; a command that has not ended in ten minutes is stuck.
        let capture = child.waitCapturing(limit: 1 << 20, timeout: .seconds(600))
        let (status, output) = (capture.status, capture.output)
        guard status == 0 else { throw FixtureError("\(argv.joined(separator: " ")) failed: \(output)") }
        return output
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The q-quantile of sorted values.
public func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
}
