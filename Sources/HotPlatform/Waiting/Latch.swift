/// A one-way gate: shut until `open()`, then open for ever. Threads block on
/// it (`wait()`) and tasks suspend on it (`await wait()`), so that `hotnode`'s
/// main thread and a host's service both learn when the node has stopped.
public final class Latch: @unchecked Sendable {
    // @unchecked: `isOpenNow` and `continuations` are read and written only
    // under `condition`'s mutex.
    private let condition = Condition()
    private var isOpenNow = false
    private var continuations: [CheckedContinuation<Void, Never>] = []

    /// A shut gate.
    public init() {}

    /// Opens the gate and lets every waiter go; false if it was open already.
    @discardableResult
    public func open() -> Bool {
        let waiting: [CheckedContinuation<Void, Never>]? = condition.withLock {
            guard !isOpenNow else { return nil }
            isOpenNow = true
            condition.broadcast()
            defer { continuations = [] }
            return continuations
        }
        // Resumed outside the lock: a resumed task may run at once on this thread.
        for continuation in waiting ?? [] { continuation.resume() }
        return waiting != nil
    }

    /// Whether the gate is open.
    public var isOpen: Bool { condition.withLock { isOpenNow } }

    /// Blocks the calling thread until the gate opens.
    public func wait() {
        condition.withLock {
            while !isOpenNow { _ = condition.wait(until: nil) }
        }
    }

    /// Blocks the calling thread until the gate opens or `deadline` passes;
    /// whether it opened.
    public func wait(until deadline: ContinuousClock.Instant) -> Bool {
        condition.withLock {
            while !isOpenNow {
                if !condition.wait(until: deadline) { break }
            }
            return isOpenNow
        }
    }

    /// Suspends the calling task until the gate opens.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let openAlready = condition.withLock {
                if isOpenNow { return true }
                continuations.append(continuation)
                return false
            }
            if openAlready { continuation.resume() }
        }
    }
}
