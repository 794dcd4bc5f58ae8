#if canImport(Glibc)
import Glibc
#endif

/// A mutex and a condition variable, heap-allocated so their addresses never
/// move (pthread objects must not be copied). A waiter checks its condition
/// and sleeps under the one mutex, so a wake-up between the two is never lost.
/// The one primitive every blocking wait of the project is built on
/// (docs/ARCHITECTURE.md, "Waiting").
public final class Condition: @unchecked Sendable {
    // @unchecked: the pthread objects are used only through pthread calls,
    // which are thread-safe; the pointers themselves never change.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Timed waits measure on the monotonic clock: a wall-clock step must
        // not make a receive wait for an hour or return at once.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex (`pthread_mutex_lock`).
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (the lock held) until signalled or `deadline` passes
    /// (`pthread_cond_timedwait`); false once the deadline has passed. A
    /// true may be spurious: the caller checks its condition again.
    public func wait(until deadline: ContinuousClock.Instant?) -> Bool {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return true
        }
        let left = deadline - .now
        guard left > .zero else { return false }
        // ContinuousClock may count on a clock a condition variable cannot
        // (CLOCK_BOOTTIME), so the time left is carried over to CLOCK_MONOTONIC.
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let (seconds, attoseconds) = min(left, .seconds(86_400 * 365)).components
        var nanoseconds = ts.tv_nsec + Int(attoseconds / 1_000_000_000)
        ts.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        ts.tv_nsec = nanoseconds
        return pthread_cond_timedwait(condition, mutex, &ts) != ETIMEDOUT || ContinuousClock.now < deadline
    }

    /// Wakes every waiter (`pthread_cond_broadcast`).
    public func broadcast() { pthread_cond_broadcast(condition) }
}
