import HotPlatform

/// The state the server's threads wait on, under one condition, so that each
/// wait ends on the event it waits for rather than on a poll: the accept
/// pause ends, connections end, a refusal arrives, the server stops.
final class ServerEvents: @unchecked Sendable {
    // @unchecked: every field is read and written under `condition`'s mutex.
    private let condition = Condition()
    private var listening = false
    private var stopped = false
    /// The accepting thread's pause: asked for by a compaction, and whether
    /// the thread has stopped accepting.
    private var pauseRequested = false
    private var parked = false
    /// Every connection from its accept to the end of its thread, whatever
    /// table it is in meanwhile: what a compaction waits to see end.
    private var alive = Set<ObjectIdentifier>()
    private var refusals: RefusalTally

    init(refusalInterval: Duration) {
        refusals = RefusalTally(interval: refusalInterval)
    }

    private func change(_ body: () -> Void) {
        condition.withLock {
            body()
            condition.broadcast()
        }
    }

    func setListening(_ value: Bool) { change { listening = value } }
    func stop() { change { stopped = true } }
    func arrived(_ id: ObjectIdentifier) { change { _ = alive.insert(id) } }
    func left(_ id: ObjectIdentifier) { change { _ = alive.remove(id) } }
    func requestPause() { change { pauseRequested = true } }
    func endPause() { change { pauseRequested = false } }

    /// Accepts nothing while a compaction asks it; connections meanwhile
    /// wait in the listening socket's backlog, for this process if the
    /// compaction fails, for the new one if it does not. False if the pause
    /// outlasted `limit` and was ended here.
    func parkWhilePaused(limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        return condition.withLock {
            parked = pauseRequested
            condition.broadcast()
            defer {
                parked = false
                condition.broadcast()
            }
            while pauseRequested && !stopped {
                if !condition.wait(until: deadline) {
                    pauseRequested = false
                    return false
                }
            }
            return true
        }
    }

    /// Waits until the accepting thread is parked (or gone) and no
    /// connection but `requester` is alive; false at `deadline`.
    func waitForDrain(leaving requester: ObjectIdentifier?, until deadline: ContinuousClock.Instant) -> Bool {
        condition.withLock {
            while !((parked || !listening) && !alive.contains { $0 != requester }) {
                if !condition.wait(until: deadline) { return false }
            }
            return true
        }
    }

    /// Waits until the server stops or `deadline` passes.
    func waitForStop(until deadline: ContinuousClock.Instant) {
        condition.withLock {
            while !stopped && condition.wait(until: deadline) {}
        }
    }

    /// Counts a refusal; a line to log now, if any.
    func record(_ refusal: Refusal, detail: String) -> String? {
        condition.withLock {
            defer { condition.broadcast() }
            return refusals.record(refusal, detail: detail, at: .now)
        }
    }

    /// The next summary of refusals, once its interval is over; nil when the
    /// server no longer listens. Waits for a refusal to count, then for the
    /// end of its interval.
    func nextRefusalSummary() -> String? {
        condition.withLock {
            while listening && !stopped {
                if let line = refusals.flush(at: .now) { return line }
                // With refusals pending, the end of their interval; with
                // none, a refusal (or the end) wakes this; either way at
                // most an interval, so that every wait has a deadline.
                let due = refusals.due ?? .now + refusals.interval
                _ = condition.wait(until: due)
            }
            return nil
        }
    }
}
