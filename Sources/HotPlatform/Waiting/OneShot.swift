/// A value handed once from one thread or task to a thread that waits for
/// it: a server call's reply, a server's start, a bridged async call's
/// result. The first value put stays; later ones are ignored.
public final class OneShot<Value>: @unchecked Sendable {
    // @unchecked: `value` is read and written only under `condition`'s mutex.
    private let condition = Condition()
    private var value: Value?

    public init() {}

    /// Hands over `value`, unless one was handed over already, and wakes the waiter.
    public func put(_ value: Value) {
        condition.withLock {
            if self.value == nil { self.value = value }
            condition.broadcast()
        }
    }

    /// The value, or nil when `deadline` passes first.
    public func wait(until deadline: ContinuousClock.Instant) -> Value? {
        condition.withLock {
            while value == nil {
                if !condition.wait(until: deadline) { break }
            }
            return value
        }
    }

    /// The value, or nil when `timeout` passes first.
    public func wait(for timeout: Duration) -> Value? {
        wait(until: .now + timeout)
    }
}
