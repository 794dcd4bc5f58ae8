import HotPlatform
import Testing

@testable import HotNode

/// `CallsInFlight.waitForEnd` sleeps on a condition the last leaving call
/// wakes: it returns as the call leaves, not at its deadline.
@Suite("Calls in flight: waiting for their end")
struct CallsInFlightWaitTests {
    @Test("a wait returns as the last call leaves, and at its deadline while one runs")
    func wakesOnLeave() throws {
        let calls = CallsInFlight()
        let token = calls.enter()
        #expect(calls.waitForEnd(until: .now + .milliseconds(50)) == 1, "still running at the deadline")
        try startThread {
            pause(for: .milliseconds(100))
            calls.leave(token)
        }
        let started = ContinuousClock.now
        #expect(calls.waitForEnd(until: .now + .seconds(30)) == 0)
        #expect(ContinuousClock.now - started < .seconds(10), "woken by the leave, not by the deadline")
    }
}
