import Testing

@testable import HotNode

/// The supervisor's restart rule: crashes restart with back-off, a crash
/// loop stops, a clean exit or a failed start is not restarted.
@Suite("Supervisor: restarts")
struct SupervisorTests {
    private let aborted: Int32 = 128 + 6

    @Test("a crash restarts after a quarter second, doubling; a loop stops at the cap within the window")
    func backOffAndCap() {
        var policy = Supervisor.RestartPolicy(maxRestarts: 3, window: 60, startGrace: 2)
        #expect(policy.decide(status: aborted, ranFor: 30, at: 100) == .restart(after: 0.25))
        #expect(policy.decide(status: aborted, ranFor: 0.1, at: 101) == .restart(after: 0.5))
        #expect(policy.decide(status: 1, ranFor: 0.1, at: 102) == .restart(after: 1), "after a crash, an early error is a crash too")
        #expect(policy.decide(status: aborted, ranFor: 0.1, at: 103) == .stop(reason: "the node died 4 times within 60 s"))
    }

    @Test("restarts older than the window are forgotten")
    func windowForgets() {
        var policy = Supervisor.RestartPolicy(maxRestarts: 1, window: 10, startGrace: 2)
        #expect(policy.decide(status: aborted, ranFor: 5, at: 100) == .restart(after: 0.25))
        #expect(policy.decide(status: aborted, ranFor: 20, at: 120) == .restart(after: 0.25))
    }

    @Test("a clean exit, and an error right after the first start, are not restarted")
    func noRestart() {
        var clean = Supervisor.RestartPolicy(maxRestarts: 5, window: 60, startGrace: 2)
        #expect(clean.decide(status: 0, ranFor: 100, at: 100) == .stop(reason: nil))
        var failedStart = Supervisor.RestartPolicy(maxRestarts: 5, window: 60, startGrace: 2)
        #expect(failedStart.decide(status: 1, ranFor: 0.2, at: 100) == .stop(reason: nil))
        var crashedAtStart = Supervisor.RestartPolicy(maxRestarts: 5, window: 60, startGrace: 2)
        #expect(crashedAtStart.decide(status: aborted, ranFor: 0.2, at: 100) == .restart(after: 0.25), "a signal is a crash, however early")
    }
}
