/// A counting semaphore built on `Condition`: `wait` takes one unit, or
/// blocks until one is there or its deadline passes; `signal` gives one
/// back. Bounds how many do a thing at once (the loader's trial slots) and
/// counts work coming to its end (`concurrentMap`'s threads), with the
/// deadline as a `ContinuousClock` instant like every other wait
/// (docs/ARCHITECTURE.md, "Waiting").
public final class CountingSemaphore: @unchecked Sendable {
    // @unchecked: `units` is read and written only under `condition`'s mutex.
    private let condition = Condition()
    private var units: Int

    /// A semaphore holding `units` (0 or more).
    public init(units: Int) {
        precondition(units >= 0, "a semaphore cannot start below zero")
        self.units = units
    }

    /// Takes one unit, waiting until one is there or `deadline` passes (nil:
    /// no bound); whether it took one.
    public func wait(until deadline: ContinuousClock.Instant?) -> Bool {
        condition.withLock {
            while units == 0 {
                if !condition.wait(until: deadline) { break }
            }
            guard units > 0 else { return false }
            units -= 1
            return true
        }
    }

    /// Gives one unit back and wakes the waiters.
    public func signal() {
        condition.withLock {
            units += 1
            condition.broadcast()
        }
    }
}
