import Foundation
import HotDeploy
import HotPlatform
import HotWire
import Testing

/// A rollout waits for its nodes with a deadline: a node that never answers
/// fails its step when the deadline passes, and the rollout goes on without it.
@Suite("Rollout deadline")
struct RolloutDeadlineTests {
    @Test("a node that accepts but never says hello fails staging at the step deadline, not at its read timeout")
    func silentNodeFailsAtTheDeadline() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let cookieFile = scratch.path("cookie")
        _ = try Cookie.create(path: cookieFile)
        // Listening but never accepting: the connection completes in the
        // backlog and the client's read of the hello blocks (10 s read timeout).
        let silent = try Listener.listen(on: .unix(path: scratch.path("silent.sock")))
        defer { silent.close() }
        let rollout = Rollout(
            targets: [RolloutTarget(name: "silent", address: silent.address, cookieFile: cookieFile)], stepTimeout: .milliseconds(500))
        let started = Date()
        do {
            let outcomes = try rollout.run([]) { _, _, _ in }
            Issue.record("a silent node staged: \(outcomes)")
        } catch {
            guard case .stagingFailed(let outcomes) = error else {
                Issue.record("not a staging failure: \(error)")
                return
            }
            #expect(outcomes.map(\.state) == [.failed])
            #expect(outcomes.first?.reason == "no answer within 500 ms while staging", "\(outcomes)")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.5 && elapsed < 5, "the rollout waited \(elapsed) s")
    }
}
