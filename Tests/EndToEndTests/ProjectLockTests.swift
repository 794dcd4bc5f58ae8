import Foundation
import Testing

/// Two `hot` commands in one project: the writers take turns on `.hot/lock`,
/// the readers never wait.
@Suite("Project lock", .serialized)
struct ProjectLockEndToEndTests {
    @Test("two deploys 50 ms apart number their versions apart and leave one consistent manifest")
    func concurrentDeploys() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try #require(try scratch.hot(["start"]).status == 0)
        // `hot start` took the lock to build: the node it spawned must not
        // hold it too, or no later command could ever write.
        let node = try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(node)/fd")
        let targets = descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(node)/fd/\($0)") }
        try #require(!targets.isEmpty && !targets.contains { $0.hasSuffix("/.hot/lock") }, "the node holds .hot/lock: \(targets)")
        let source = try scratch.read("app/modules/hello/hello.swift")

        try scratch.write("app/modules/hello/hello.swift", source.replacingOccurrences(of: "Hello, ", with: "Howdy, "))
        let group = DispatchGroup()
        nonisolated(unsafe) var first: Outcome?
        let background = scratch
        DispatchQueue.global().async(group: group) { first = try? background.hot(["deploy"]) }
        usleep(50_000)
        try scratch.write("app/modules/hello/hello.swift", source.replacingOccurrences(of: "Hello, ", with: "Hi, "))
        let second = try scratch.hot(["deploy"])
        group.wait()
        let earlier = try #require(first)
        #expect(earlier.status == 0, "\(earlier)")
        #expect(second.status == 0, "\(second)")
        let waited = [earlier, second].filter { $0.stderr.contains("waiting for another hot command (pid ") }
        #expect(waited.count == 1, "one of them must have waited for the other: \(earlier)\n\(second)")

        // Every version has its own number and key, every object is recorded,
        // and the current build is the last edit's, which the node runs.
        let manifest = try #require(try parseJSON(scratch.read("app/.hot/manifest.json")) as? [String: Any])
        let versions = try #require(manifest["versions"] as? [[String: Any]]).filter { $0["module"] as? String == "hello" }
        let numbers = versions.compactMap { $0["version"] as? Int }
        let keys = versions.compactMap { $0["key"] as? String }
        #expect(numbers.count == versions.count && Set(numbers).count == numbers.count, "version numbers repeat: \(numbers)")
        #expect(Set(keys).count == keys.count, "a key was built twice: \(versions)")
        let recorded = Set(versions.compactMap { $0["file"] as? String })
        let objects = try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/hello"))
        #expect(Set(objects.filter { $0.hasSuffix(".so") }) == recorded, "objects on disk vs manifest")
        #expect(objects.filter { $0.hasPrefix(".") }.isEmpty, "leftover temporary files: \(objects)")
        let current = try #require((manifest["current"] as? [String: Int])?["hello"])
        #expect(current == numbers.max(), "\(manifest)")
        let call = try scratch.hot(["call", "hello:greet", "bob"])
        #expect(call.stdout == "\"Hi, bob!\"\n", "\(call)")
    }

    @Test("a writer waits for the lock, says so once, and gives up at the deadline; readers do not wait")
    func deadline() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try FileManager.default.createDirectory(atPath: scratch.path("app/.hot"), withIntermediateDirectories: true)
        // This process holds the lock, as another `hot` would.
        let fd = open(scratch.path("app/.hot/lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }

        let started = Date()
        let build = try scratch.hot(["build"], environment: ["HOT_LOCK_TIMEOUT": "0.5"])
        #expect(Date().timeIntervalSince(started) >= 0.5)
        #expect(build.status == 1, "\(build)")
        let lines = build.stderr.split(separator: "\n")
        #expect(lines.count == 2, "one line that it waits, one that it gives up: \(build)")
        #expect(lines.first?.contains("waiting for another hot command (pid \(getpid()))") == true, "\(build)")
        #expect(lines.last?.contains("another hot command (pid \(getpid())) has been writing this project's builds") == true, "\(build)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("app/.hot/manifest.json")), "nothing was built")

        for arguments in [["changed"], ["status"], ["changed", "--since", "HEAD"]] {
            let reader = try scratch.hot(arguments, environment: ["HOT_LOCK_TIMEOUT": "30"])
            #expect(!reader.stderr.contains("waiting"), "hot \(arguments.joined(separator: " ")) must not wait: \(reader)")
        }
    }
}
