import Foundation
import HotDeploy
import HotWire
import Testing

/// A supervisor killed with SIGKILL cannot tell its node; the node notices
/// on its own, `hot status` says so, and `hot start` will not start a
/// second node beside it.
@Suite("Supervision", .serialized)
struct SupervisionTests {
    @Test("kill -9 the supervisor: the node lives, status says it runs unsupervised, start refuses in one line, stop stops it")
    func supervisorKilled() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try scratch.startProject()
        let supervisorFile = scratch.path("app/.hot/supervisor.pid")
        let supervisor = try #require(pid_t(try scratch.read("app/.hot/supervisor.pid").trimmingCharacters(in: .whitespacesAndNewlines)))

        let supervised = try scratch.hot(["status"])
        #expect(supervised.status == 0, "\(supervised)")
        #expect(!supervised.stdout.contains("unsupervised"), "\(supervised)")

        kill(supervisor, SIGKILL)
        // Gone, and its number no business of `Scratch.close`.
        try? FileManager.default.removeItem(atPath: supervisorFile)

        // The node sees the pidfd become readable at once; the test asks
        // until it says so, or five seconds pass.
        var status = try scratch.hot(["status"])
        let deadline = ContinuousClock.now + .seconds(5)
        while !status.stdout.contains("unsupervised"), ContinuousClock.now < deadline {
            usleep(50_000)
            status = try scratch.hot(["status"])
        }
        #expect(Scratch.isRunning(node), "the node lives on")
        #expect(
            status.stdout.contains("unsupervised: the supervisor (pid \(supervisor)) died; restart with `hot stop && hot start`"),
            "\(status)")
        let json = try #require(try parseJSON(try scratch.hot(["status", "--json"]).stdout) as? [String: Any])
        #expect((json["unsupervised"] as? [String: Any])?["supervisorPid"] as? Int == Int(supervisor))

        let again = try scratch.hot(["start"])
        #expect(again.status != 0, "\(again)")
        let reason = again.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!reason.contains("\n"), "one line: \(reason)")
        #expect(reason.contains("unsupervised") && reason.contains("hot stop && hot start"), "\(reason)")
        #expect(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines) == "\(node)", "no second node")

        let stopped = try scratch.hot(["stop"])
        #expect(stopped.status == 0, "\(stopped)")
        let gone = ContinuousClock.now + .seconds(10)
        while Scratch.isRunning(node), ContinuousClock.now < gone { usleep(20_000) }
        #expect(!Scratch.isRunning(node), "hot stop ends it")
    }
}
