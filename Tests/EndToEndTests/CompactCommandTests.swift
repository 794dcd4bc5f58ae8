import Foundation
import Testing

/// Compaction as a user meets it: hot.json's threshold reaching the node,
/// `hot compact` and `hot status`, against real nodes `hot start` started.
@Suite("Compaction", .serialized)
struct CompactionTests {
    /// `hot init app` with `compact` (a JSON object's text) added to its hot.json.
    private func project(_ scratch: Scratch, compact: String) throws {
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        let config = try scratch.read("app/hot.json")
        let edited = config.replacingOccurrences(of: #""sticky": []"#, with: #""sticky": [], "compact": \#(compact)"#)
        try #require(edited != config, "hot.json has no sticky list to put compact beside:\n\(config)")
        try scratch.write("app/hot.json", edited)
    }

    /// A process's command line, from /proc.
    private func commandLine(_ pid: pid_t) throws -> [String] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("hot start gives hotnode hot.json's compaction threshold")
    func startPassesThreshold() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try project(scratch, compact: #"{"afterLoads": 40, "afterRetainedBytes": 5000000}"#)
        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
        let pidText = try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(pid_t(pidText))
        let arguments = try commandLine(pid)
        let loads = try #require(arguments.firstIndex(of: "--compact-after-loads"), "\(arguments)")
        #expect(arguments[loads + 1] == "40", "\(arguments)")
        let bytes = try #require(arguments.firstIndex(of: "--compact-after-bytes"), "\(arguments)")
        #expect(arguments[bytes + 1] == "5000000", "\(arguments)")
    }

    @Test("a hot.json whose compact threshold is not a whole number above 0 is refused in one line naming the field")
    func badThresholdRefused() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try project(scratch, compact: #"{"afterLoads": 0}"#)
        let started = try scratch.hot(["start"])
        #expect(started.status == 1, "\(started)")
        #expect(started.stderr.contains("compact.afterLoads"), "\(started)")
        #expect(started.stderr.split(separator: "\n").count == 1, "\(started)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.pid")), "no node started")
    }
}
