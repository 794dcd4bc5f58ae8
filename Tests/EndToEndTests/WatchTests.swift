import Foundation
import Synchronization
import Testing

/// `hot watch` against a real node: saves made the ways editors make them,
/// a burst of saves, a compile error, modules added and removed, a module
/// that crashes on load, and Ctrl-C during a build. Every step is checked
/// through the node's own `hot status --json`.
@Suite("hot watch", .serialized)
struct WatchTests {
    @Test("saves in place and by rename, ten saves at once, a compile error and its fix, a module added and one deleted")
    func edits() throws {
        try withWatch { scratch, watch in
            let file = "app/modules/hello/hello.swift"
            let original = try scratch.read(file)

            // In place: open, truncate, write, close (IN_CLOSE_WRITE).
            try scratch.writeInPlace(file, original.replacingOccurrences(of: "Hello, ", with: "Howdy, "))
            try watch.expect("hello v1 -> v2")
            #expect(try versions(scratch, "hello") == (2, 1))
            #expect(try scratch.hot(["call", "hello:greet", "bob"]).stdout == "\"Howdy, bob!\"\n")

            // A new file renamed over the old (IN_MOVED_TO), as vim and VS Code save.
            try scratch.write(file, original.replacingOccurrences(of: "Hello, ", with: "Hi, "))
            try watch.expect("hello v2 -> v3")
            #expect(try versions(scratch, "hello") == (3, 2))

            // Ten saves within 100 ms: one build, one load, of the last.
            for index in 0..<10 {
                try scratch.writeInPlace(file, original.replacingOccurrences(of: "Hello, ", with: "Save\(index), "))
                usleep(9_000)
            }
            try watch.expect("hello v3 -> v4")
            usleep(1_500_000)
            #expect(watch.count("hello v") == 3, "one swap for the burst: \(watch.output)")
            #expect(try versions(scratch, "hello") == (4, 3))
            #expect(try scratch.hot(["call", "hello:greet", "bob"]).stdout == "\"Save9, bob!\"\n")

            // A compile error: the diagnostics, the node keeps v4; then the fix.
            try scratch.writeInPlace(file, original + "\nlet broken: Int = \"no\"\n")
            try watch.expect("hello: did not compile; the node keeps v4")
            #expect(watch.output.contains("hello.swift:"), "the compiler's diagnostics with file:line: \(watch.output)")
            #expect(try versions(scratch, "hello") == (4, 3))
            try scratch.writeInPlace(file, original.replacingOccurrences(of: "Hello, ", with: "Fixed, "))
            try watch.expect("hello v4 -> v5")
            #expect(try scratch.hot(["call", "hello:greet", "bob"]).stdout == "\"Fixed, bob!\"\n")

            // A new module folder, its file written after the folder was made.
            try FileManager.default.createDirectory(atPath: scratch.path("app/modules/extra/more"), withIntermediateDirectories: true)
            try scratch.write("app/modules/extra/more/extra.swift", """
                import Hot
                let module = HotModule(exports: [.function("two") { () -> Int in 2 }])
                """)
            try watch.expect("extra none -> v1")
            #expect(try versions(scratch, "extra") == (1, nil))
            #expect(try scratch.hot(["call", "extra:two"]).stdout == "2\n")

            // The module's folder removed: deleted from the node, and not booted again.
            try FileManager.default.removeItem(atPath: scratch.path("app/modules/extra"))
            try watch.expect("extra deleted from the node")
            #expect(try versions(scratch, "extra") == (nil, 1))
            #expect(try scratch.hot(["call", "extra:two"]).status != 0)
            let permanent = try module(scratch, "extra")?["permanent"]
            #expect(permanent == nil || permanent is NSNull, "a deleted module is not booted again: \(String(describing: permanent))")
            #expect(watch.isRunning)
        }
    }

    @Test("a dev node under hot watch with hot.json's compaction threshold compacts by itself, and the watch goes on loading into it")
    func compactsUnderWatch() throws {
        try withWatch(compact: #"{"afterLoads": 3}"#) { scratch, watch in
            let file = "app/modules/hello/hello.swift"
            let original = try scratch.read(file)
            let pid = try #require(try status(scratch)["pid"] as? Int)
            for (index, word) in ["One", "Two", "Three"].enumerated() {
                try scratch.writeInPlace(file, original.replacingOccurrences(of: "Hello, ", with: "\(word), "))
                try watch.expect("hello v\(index + 1) -> v\(index + 2)")
            }
            // The node compacts by itself once it has mapped three versions.
            let deadline = Date().addingTimeInterval(15)
            var compaction: [String: Any]?
            while compaction == nil, Date() < deadline {
                compaction = try status(scratch)["lastCompaction"] as? [String: Any]
                if compaction == nil { usleep(50_000) }
            }
            let record = try #require(compaction, "no compaction within 15 s")
            #expect(record["trigger"] as? String == "threshold", "\(record)")
            #expect(try status(scratch)["pid"] as? Int == pid, "in place")

            // The watch's connection was told to reconnect; the next save loads all the same.
            try scratch.writeInPlace(file, original.replacingOccurrences(of: "Hello, ", with: "Four, "))
            try watch.expect("hello v4 -> v5")
            #expect(try scratch.hot(["call", "hello:greet", "bob"]).stdout == "\"Four, bob!\"\n")
            #expect(!watch.output.contains("hot: "), "no error from the watch: \(watch.output)")
            #expect(watch.isRunning)
        }
    }

    @Test("a module whose load crashes: the node refuses it and lives, the watch goes on")
    func crashingLoad() throws {
        try withWatch { scratch, watch in
            let pid = try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
            let file = "app/modules/hello/hello.swift"
            let original = try scratch.read(file)
            try scratch.write(file, """
                import Hot
                let module = HotModule(exports: [], onLoad: { fatalError("watched-module-traps-on-load") })
                """)
            try watch.expect("not loaded")
            #expect(watch.output.contains("the node keeps hello v1"), "\(watch.output)")
            #expect(Scratch.isAlive(pid))
            #expect(try versions(scratch, "hello") == (1, nil))
            #expect(try scratch.hot(["call", "hello:greet", "bob"]).stdout == "\"Hello, bob!\"\n")
            try scratch.write(file, original.replacingOccurrences(of: "Hello, ", with: "Alive, "))
            try watch.expect("hello v1 -> v3")
            #expect(try scratch.hot(["call", "hello:greet", "bob"]).stdout == "\"Alive, bob!\"\n")
            #expect(Scratch.isAlive(pid))
        }
    }

    @Test("a save with module-level state: the watch warns at its line and loads it; with --strict it is an error and the node keeps its version")
    func buildChecks() throws {
        let file = "app/modules/hello/hello.swift"
        try withWatch { scratch, watch in
            try scratch.write(file, try scratch.read(file) + "nonisolated(unsafe) var hits = 0\n")
            try watch.expect("hello v1 -> v2")
            #expect(watch.output.contains("hello.swift:13:1: warning: [hot] top-level var 'hits' is module-level mutable state"), "\(watch.output)")
        }
        try withWatch(arguments: ["--strict"]) { scratch, watch in
            let original = try scratch.read(file)
            try scratch.write(file, original + "nonisolated(unsafe) var hits = 0\n")
            try watch.expect("the node keeps v1")
            #expect(watch.output.contains("hello.swift:13:1: error: [hot] top-level var 'hits'"), "\(watch.output)")
            #expect(watch.output.contains("hello: not compiled: the build checks' findings are errors (--strict)"), "\(watch.output)")
            #expect(try versions(scratch, "hello") == (1, nil))
            try scratch.write(file, original + "nonisolated(unsafe) var hits = 0 // hot: allow\n")
            try watch.expect("hello v1 -> v2")
            #expect(watch.isRunning)
        }
    }

    @Test("Ctrl-C during a build: the watch ends, no compiler left, no partial artifact, the node keeps its version")
    func interruptedBuild() throws {
        try withWatch { scratch, watch in
            let before = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/hello")))
            // A module slow enough to compile that the signal lands mid-build.
            let slow = (0..<400).map { "public func f\($0)(_ x: Int) -> String { \"\\(x + \($0))\" + String(repeating: \"y\", count: \($0 % 7)) }" }
            try scratch.write("app/modules/hello/slow.swift", slow.joined(separator: "\n"))
            var compiling = false
            for _ in 0..<400 where !compiling {
                usleep(10_000)
                compiling = children(of: watch.pid).contains { $0.contains("swift") }
            }
            try #require(compiling, "the build never started")
            watch.interrupt()
            let status = watch.wait(timeout: 30)
            #expect(status == 0, "\(watch.output)")
            #expect(watch.output.contains("build interrupted; no partial artifact was kept"), "\(watch.output)")
            // Nothing the build started outlives it, and nothing half-written stays.
            let leftovers = allProcesses().filter { $0.contains(scratch.root) && $0.contains("swift") }
            #expect(leftovers.isEmpty, "\(leftovers)")
            let after = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/hello")))
            #expect(after == before, "artifacts: \(after.subtracting(before))")
            #expect(try versions(scratch, "hello") == (1, nil))
        }
    }
}

/// A project of `hot init` with its node started and `hot watch` running in
/// it; both stopped and the folder removed after `body`, however it ends.
/// `compact`, a JSON object's text, is put in hot.json as its `compact`;
/// `arguments` go to `hot watch`.
private func withWatch(
    compact: String? = nil, arguments: [String] = [], _ body: (Scratch, WatchProcess) throws -> Void
) throws {
    let scratch = try Scratch()
    defer { scratch.close() }
    try #require(try scratch.hot(["init", "app"], in: "").status == 0)
    if let compact {
        let config = try scratch.read("app/hot.json")
        let edited = config.replacingOccurrences(of: #""sticky": []"#, with: #""sticky": [], "compact": \#(compact)"#)
        try #require(edited != config, "hot.json has no sticky list to put compact beside:\n\(config)")
        try scratch.write("app/hot.json", edited)
    }
    try #require(try scratch.hot(["start"]).status == 0)
    let watch = try WatchProcess(scratch, arguments: arguments)
    defer { watch.stop() }
    try watch.expect("watching")
    try body(scratch, watch)
}

/// `hot watch` running in the background, its output collected as it comes.
final class WatchProcess {
    private let process: Process
    private let collected = Collected()
    private let reader: Thread
    var pid: pid_t { process.processIdentifier }

    /// Watches the project in `folder` of the scratch folder.
    init(_ scratch: Scratch, arguments: [String] = [], in folder: String = "app") throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.hot)
        process.arguments = ["watch"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path(folder))
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let handle = pipe.fileHandleForReading
        let collected = collected
        reader = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                collected.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
        try process.run()
        reader.start()
    }

    var output: String { collected.text.withLock { $0 } }
    var isRunning: Bool { process.isRunning }

    func count(_ text: String) -> Int { output.components(separatedBy: text).count - 1 }

    /// Waits for `text` in the output, up to `timeout` seconds.
    func expect(_ text: String, timeout: Double = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return }
            if !process.isRunning, !output.contains(text) { break }
            usleep(20_000)
        }
        try #require(output.contains(text), "`hot watch` never printed '\(text)':\n\(output)")
    }

    func interrupt() { kill(pid, SIGINT) }

    /// The exit status, or nil when it did not end within `timeout`.
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Ends the watch however the test went.
    func stop() {
        if process.isRunning { kill(pid, SIGTERM) }
        if wait(timeout: 10) == nil {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Output read by one thread and looked at by another.
private final class Collected: Sendable {
    let text = Mutex<String>("")
}

/// A module's current and old versions, from `hot status --json`.
private func versions(_ scratch: Scratch, _ name: String) throws -> (Int?, Int?) {
    let found = try module(scratch, name)
    return ((found?["current"] as? [String: Any])?["version"] as? Int, (found?["old"] as? [String: Any])?["version"] as? Int)
}

private func module(_ scratch: Scratch, _ name: String) throws -> [String: Any]? {
    (try status(scratch)["modules"] as? [[String: Any]])?.first { $0["name"] as? String == name }
}

/// `hot status --json`, read.
private func status(_ scratch: Scratch) throws -> [String: Any] {
    let status = try scratch.hot(["status", "--json"])
    try #require(status.status == 0, "\(status)")
    return try #require(try parseJSON(status.stdout) as? [String: Any], "\(status)")
}

/// The command lines of a process's children, from /proc.
private func children(of pid: pid_t) -> [String] {
    allProcesses { $0 == pid }
}

/// The command lines of every process (whose parent passes `parent`).
private func allProcesses(parent: (pid_t) -> Bool = { _ in true }) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> String? in
        guard Int32(entry) != nil,
            let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let ppid = pid_t(fields[1]), parent(ppid) else { return nil }
        guard let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
        return String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }
}

extension Scratch {
    /// Writes a file the way an editor that saves in place does: the same
    /// inode, truncated and rewritten.
    func writeInPlace(_ relative: String, _ text: String) throws {
        try text.write(toFile: path(relative), atomically: false, encoding: .utf8)
    }
}

extension WatchProcess {
    /// In an app of a template (`hot init --template hummingbird` or
    /// `vapor`) that serves on `connection`, with this watch just started:
    /// saves Sources/App/HostGreeting.swift with its greeting changed, waits
    /// for the patch, and checks GET /host answers from the new code, where
    /// it answered from the built code before. Returns the file and its text
    /// as it was, to save back.
    func patchHostGreeting(_ scratch: Scratch, on connection: KeepAliveConnection, app: RunningApp) throws -> (path: String, text: String) {
        let before = try connection.get("/host")
        #expect(before.status == 200 && before.body == "Hello from the app's own code", "\(before.body)\n\(app.log())")
        try expect("watching the host's own code (App, Server, Shared)")
        let greeting = "app/Sources/App/HostGreeting.swift"
        let original = try scratch.read(greeting)
        try scratch.write(greeting, original.replacingOccurrences(of: "Hello from", with: "Patched into"))
        try expect("App: 1 function patched  build ")
        let after = try connection.get("/host")
        #expect(after.status == 200 && after.body == "Patched into the app's own code", "\(after.body)\n\(app.log())")
        return (greeting, original)
    }
}
