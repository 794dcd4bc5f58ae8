import Testing

@testable import HotNode

/// The supervisor's restart rule: crashes restart with back-off, a crash
/// loop stops, a clean exit or a failed start is not restarted.
@Suite("Supervisor: restarts")
struct SupervisorTests {
    private let aborted: Int32 = 128 + 6
    private let start = ContinuousClock.now

    /// `seconds` after the test's start.
    private func at(_ seconds: Double) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test("a crash restarts after a quarter second, doubling; a loop stops at the cap within the window")
    func backOffAndCap() {
        var policy = Supervisor.RestartPolicy(maxRestarts: 3, window: .seconds(60), startGrace: .seconds(2))
        #expect(policy.decide(status: aborted, ranFor: .seconds(30), at: at(100)) == .restart(after: .milliseconds(250)))
        #expect(policy.decide(status: aborted, ranFor: .seconds(0.1), at: at(101)) == .restart(after: .milliseconds(500)))
        #expect(policy.decide(status: 1, ranFor: .seconds(0.1), at: at(102)) == .restart(after: .seconds(1)), "after a crash, an early error is a crash too")
        #expect(policy.decide(status: aborted, ranFor: .seconds(0.1), at: at(103)) == .stop(reason: "the node died 4 times within 60 s"))
    }

    @Test("restarts older than the window are forgotten")
    func windowForgets() {
        var policy = Supervisor.RestartPolicy(maxRestarts: 1, window: .seconds(10), startGrace: .seconds(2))
        #expect(policy.decide(status: aborted, ranFor: .seconds(5), at: at(100)) == .restart(after: .milliseconds(250)))
        #expect(policy.decide(status: aborted, ranFor: .seconds(20), at: at(120)) == .restart(after: .milliseconds(250)))
    }

    @Test("a clean exit, and an error right after the first start, are not restarted")
    func noRestart() {
        var clean = Supervisor.RestartPolicy(maxRestarts: 5, window: .seconds(60), startGrace: .seconds(2))
        #expect(clean.decide(status: 0, ranFor: .seconds(100), at: at(100)) == .stop(reason: nil))
        var failedStart = Supervisor.RestartPolicy(maxRestarts: 5, window: .seconds(60), startGrace: .seconds(2))
        #expect(failedStart.decide(status: 1, ranFor: .seconds(0.2), at: at(100)) == .stop(reason: nil))
        var crashedAtStart = Supervisor.RestartPolicy(maxRestarts: 5, window: .seconds(60), startGrace: .seconds(2))
        #expect(crashedAtStart.decide(status: aborted, ranFor: .seconds(0.2), at: at(100)) == .restart(after: .milliseconds(250)), "a signal is a crash, however early")
    }
}
