import Foundation
import Hot
import HotDeploy
import HotWire
import Testing

/// Compaction as a user meets it: hot.json's threshold reaching the node,
/// `hot compact` and `hot status`, against real nodes `hot start` started.
@Suite("hot compact", .serialized)
struct CompactCommandTests {
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

    @Test("hot compact frees what earlier loads hold, a server's state and name cross, and a deploy right after works")
    func compactAfterLoads() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: [
            "counter": CodeServerModules.counter(version: 1, shape: .count), "alpha": CodeServerModules.constant("alpha", version: 1),
        ])
        let server = try app.spawn("counter:counter", name: "counter")
        _ = try app.callMap("counter:bump")
        for version in 2...6 { try app.deploy("alpha", CodeServerModules.constant("alpha", version: version)) }
        let before = try app.status()
        let pid = try #require(before.document["pid"] as? Int)
        let mappedBefore = try #require(before.document["mappedVersions"] as? Int, "\(before)")
        #expect(mappedBefore >= 7, "six versions of alpha and one of counter: \(before)")

        let compacted = try app.hot(["compact"])
        try #require(compacted.status == 0, "\(compacted)")
        #expect(compacted.stdout.hasPrefix("compacted app: "), "\(compacted)")
        #expect(compacted.stdout.contains("servers carried: \(server) counter"), "\(compacted)")

        let after = try app.status()
        #expect(after.document["pid"] as? Int == pid, "the node re-executes in place: \(after)")
        let record = try #require(after.document["lastCompaction"] as? [String: Any], "\(after)")
        #expect(record["trigger"] as? String == "request")
        let mappingsBefore = try #require(record["mappingsBefore"] as? Int)
        let mappingsAfter = try #require(record["mappingsAfter"] as? Int)
        #expect(mappingsAfter < mappingsBefore, "\(record)")
        #expect(record["versionsAfter"] as? Int == 2, "only the current versions: \(record)")
        #expect(after.document["mappedVersions"] as? Int == 2, "\(after)")
        #expect(after.currentVersion("alpha") == 6 && after.currentVersion("counter") == 1, "the same version numbers: \(after)")
        #expect(try app.hot(["status"]).stdout.contains("last compaction: "))

        // The server's state and name crossed; the next deploy goes on from there.
        let reply = try app.callMap("counter:bump")
        #expect(reply["count"] as? Int == 2, "\(reply)")
        #expect(after.process(named: "counter")?["pid"] as? String == server, "\(after)")
        try app.deploy("alpha", CodeServerModules.constant("alpha", version: 7))
        #expect(try app.call("alpha:v") as? Int == 7)

        // --json: the new process's record and the old one's reply.
        let json = try app.hot(["compact", "--json"])
        try #require(json.status == 0, "\(json)")
        let document = try #require(try parseJSON(json.stdout) as? [String: Any], "\(json)")
        #expect((document["lastCompaction"] as? [String: Any])?["versionsBefore"] as? Int == 3, "\(document)")
        #expect((document["compact"] as? [String: Any])?["modules"] as? [String: Int] == ["alpha": 7, "counter": 1], "\(document)")
    }

    @Test("hot compact is refused while a plain process runs, naming it and --purge; with --purge it stops it and compacts")
    func plainProcessRefused() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["t2": CodeServerModules.process(version: 1)])
        let looper = try app.spawn("t2:loop", "0", name: "looper")

        let refused = try app.hot(["compact"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains(looper) && refused.stderr.contains("--purge"), "\(refused)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused)")
        #expect(try app.status().document["lastCompaction"] == nil, "nothing happened")

        let purged = try app.hot(["compact", "--purge"])
        #expect(purged.status == 0, "\(purged)")
        #expect(purged.stdout.contains("stopped \(looper)"), "\(purged)")
        let after = try app.status()
        #expect(after.process(named: "looper") == nil, "\(after)")
        #expect(after.document["lastCompaction"] != nil, "\(after)")
        #expect(try app.call("t2:version") as? Int == 1)
    }

    @Test("a client whose connection was open across a compaction goes on: its next requests, an upload and a load included, reach the new process")
    func openClientSurvives() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["alpha": CodeServerModules.constant("alpha", version: 1)])
        let client = try NodeClient(address: .unix(path: scratch.path("app/.hot/node.sock")), cookieFile: scratch.path("app/.hot/cookie"))
        let before = try client.request(.status)
        // The next version, built but not loaded, to load over the old connection.
        try app.write("alpha", CodeServerModules.constant("alpha", version: 2))
        let built = try app.hot(["build", "--json"])
        try #require(built.status == 0, "\(built)")
        let object = try #require(
            try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/alpha")).first { $0.hasPrefix("alpha.v2-") })

        let compacted = try app.hot(["compact"])
        try #require(compacted.status == 0, "\(compacted)")
        // The node told this idle connection to reconnect and closed it.
        let after = try client.request(.status)
        #expect(after.pid == before.pid)
        #expect(after.lastCompaction != nil, "\(after)")
        try client.stage(path: scratch.path("app/.hot/build/alpha/\(object)"), fileName: object)
        let loaded = try client.request(.load(files: [object], purge: false, force: false))
        #expect(loaded.modules.map(\.to) == [2])
        #expect(try app.call("alpha:v") as? Int == 2)
    }
}
