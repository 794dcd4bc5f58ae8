import CHotPlatform
import Synchronization

/// A value behind a lock: the standard library's `Mutex`, and the one lock
/// type of the project's own code.
///
/// On Linux `Mutex` takes a priority-inheritance futex. Uncontended it is an
/// atomic exchange ThreadSanitizer sees; contended, the kernel hands the lock
/// from the thread that leaves to the one that waits, and ThreadSanitizer sees
/// no synchronization between them, so two threads that each held the lock in
/// turn are reported as a race (docs/ARCHITECTURE.md, "Lock order"). Built for
/// `make tsan` (with `HOT_TSAN` defined), each hold also tells it, through
/// its interface's acquire and release; any other build is `Mutex` exactly.
@frozen
public struct Locked<Value: ~Copyable>: ~Copyable, Sendable {
    @usableFromInline let mutex: Mutex<Value>
    #if HOT_TSAN
    @usableFromInline let witness = SanitizerWitness()
    #endif

    @inlinable
    public init(_ initialValue: consuming sending Value) {
        mutex = Mutex(initialValue)
    }

    /// Runs `body` with the value while holding the lock.
    @inlinable @inline(__always)
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            #if HOT_TSAN
            __tsan_acquire(witness.address)
            defer { __tsan_release(witness.address) }
            #endif
            return try body(&value)
        }
    }
}

#if HOT_TSAN
/// An address of a lock's own that ThreadSanitizer's acquire and release name.
public final class SanitizerWitness: Sendable {
    @inlinable public init() {}
    @inlinable public var address: UnsafeMutableRawPointer {
        Unmanaged.passUnretained(self).toOpaque()
    }
}
#endif
