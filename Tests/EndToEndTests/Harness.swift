import Foundation
import Testing

/// The built `hot` and `hotnode`: beside the test bundle in SwiftPM's build
/// folder, or where HOT_BIN_DIR says.
enum Binaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["HOT_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()
    static var hot: String { directory + "/hot" }
}

/// What a finished command did.
struct Outcome: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// A temporary folder holding one project; `close()` stops its node (politely,
/// then by SIGKILL) and removes the folder, whatever the test did.
final class Scratch: Sendable {
    let root: String

    init() throws {
        var template = Array("/tmp/hot-e2e.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
    }

    /// Runs `hot` with `arguments` in `folder` (relative to the root).
    @discardableResult
    func hot(_ arguments: [String], in folder: String = "app", environment: [String: String] = [:]) throws -> Outcome {
        try run(Binaries.hot, arguments, in: root + "/" + folder, environment: environment)
    }

    func run(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Outcome {
        try runCommand(executable, arguments, in: directory, environment: environment)
    }

    /// Runs `swift build ARGUMENTS` in `folder` (relative to the root), with
    /// the temporary folder inside the root: SwiftPM leaves its lock files
    /// there, and they go with the root.
    func swiftBuild(_ arguments: [String] = [], in folder: String) throws -> Outcome {
        let temporary = path(".tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        return try run("/usr/bin/env", ["swift", "build"] + arguments, in: path(folder), environment: ["TMPDIR": temporary])
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: path(relative), atomically: true, encoding: .utf8)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// Stops every node started under the root and removes the folder.
    func close() {
        // Supervisors first: stopped, they stop their node and do not restart it.
        for pidFile in pidFiles(named: "supervisor.pid") + pidFiles() {
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    private func pidFiles(named suffix: String = "node.pid") -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix(suffix) { found.append(root + "/" + item) }
        }
        return found
    }

    /// `hot init app` and `hot start` here; the node's pid.
    func startProject() throws -> pid_t {
        let initialized = try hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        let started = try hot(["start"])
        try #require(started.status == 0, "\(started)")
        return try #require(pid_t(try read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Whether a process id is alive.
    static func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }

    /// Running, not merely a zombie: an orphan is reaped by whatever pid 1 is, perhaps never.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

/// Runs `executable` to its end in `directory`, with the test's environment
/// and `environment` over it, and gives what it wrote.
func runCommand(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes to their end before waiting, so a chatty child cannot block on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// Parses JSON output with Foundation (the test's own reading, not the product's).
func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

/// Runs `body`, which blocks (a build, a deploy, a server's start), on a
/// thread of its own and waits for it without holding a thread: Swift
/// Testing runs tests on the cooperative pool, which has as many threads as
/// the machine has cores, and two tests blocking them for minutes starve
/// every async test of the run meanwhile. `body` records no issue; the test
/// checks what it returns.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
