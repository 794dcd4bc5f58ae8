#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Synchronization

/// The async calls running in one version, counted and cancellable: Erlang's
/// rule that code already running finishes in its version, kept for calls
/// as the process table keeps it for processes (docs/ARCHITECTURE.md,
/// "Calls in flight").
///
/// A call enters before it starts and leaves when it ends, thrown or not.
/// Entering claims a slot of a small ring with the calling task's address;
/// a call that finds its slots taken goes to `overflow`, under a mutex. The
/// ring costs a call two atomic read-modify-writes (the total's ticket and
/// the slot's claim) and one on leaving, where a mutex-held registry cost
/// five times a direct async call.
///
/// The invariant cancellation relies on, kept here and nowhere else: **a
/// task in a slot is alive while the slot holds it unpinned or pinned.** A
/// canceller pins a slot (sets bit 0 of the address) before it follows the
/// address, and a leaving call waits for the pin to go before it clears its
/// slot and returns, so the task cannot end under the canceller.
public final class CallsInFlight: @unchecked Sendable {
    // @unchecked: `slots` is written only through its atomics, and freed in `deinit` alone.
    /// Ring slots: the task address of the call holding each, 0 when free.
    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    private static let slotCount = 128
    /// How many slots after its own a call tries before it overflows.
    private static let probes = 4
    /// Calls that found no slot: their task addresses (0: none) by ticket.
    /// A call leaves the list under the lock, so a task listed is alive
    /// while the lock is held.
    private let overflow = Locked<[Int: UInt]>([:])
    private let overflowCount = Atomic<Int>(0)
    /// Calls ever entered: each call's ticket.
    private let entered = Atomic<Int>(0)
    /// Calls that ended by throwing.
    private let failed = Atomic<Int>(0)
    /// Threads in `waitForEnd`, and the condition they sleep on: a call that
    /// leaves wakes them only when there are some, so a call pays one load
    /// for it. Sequentially consistent on both sides (the slot cleared then
    /// `waiters` read; `waiters` raised then the slots read), so either the
    /// leaving call sees the waiter or the waiter sees the call gone.
    @usableFromInline let waiters = Atomic<Int>(0)
    private let ended = Condition()

    init() {
        slots = .allocate(capacity: Self.slotCount)
        for index in 0..<Self.slotCount { (slots + index).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
    }

    /// Where a call was registered: a ring slot (≥ 0) or the overflow ticket (encoded as -1 - ticket).
    public struct Token: Sendable {
        @usableFromInline let place: Int
    }

    /// Registers the calling task's call; pair with `leave`.
    @inlinable
    public func enter() -> Token {
        withUnsafeCurrentTask { task in enter(task) }
    }

    @usableFromInline
    func enter(_ task: UnsafeCurrentTask?) -> Token {
        let ticket = entered.add(1, ordering: .relaxed).newValue
        guard let task else {
            // Not in a task (cannot happen in async code): counted, not cancellable.
            return Token(place: -1 - register(ticket, 0))
        }
        let address = unsafeBitCast(task, to: UInt.self)
        for probe in 0..<Self.probes {
            let index = (ticket &+ probe) & (Self.slotCount - 1)
            if slots[index].compareExchange(expected: 0, desired: address, ordering: .acquiringAndReleasing).exchanged {
                return Token(place: index)
            }
        }
        return Token(place: -1 - register(ticket, address))
    }

    private func register(_ ticket: Int, _ address: UInt) -> Int {
        overflow.withLock { $0[ticket] = address }
        overflowCount.add(1, ordering: .releasing)
        return ticket
    }

    /// Ends a call registered by `enter`; `failed` when it threw.
    @inlinable
    public func leave(_ token: Token, failed: Bool = false) {
        if failed { noteFailure() }
        if token.place >= 0 { clear(token.place) } else { unregister(-1 - token.place) }
        if waiters.load(ordering: .sequentiallyConsistent) > 0 { wakeWaiters() }
    }

    @usableFromInline
    func wakeWaiters() { ended.withLock { ended.broadcast() } }

    @usableFromInline
    func noteFailure() { failed.add(1, ordering: .relaxed) }

    @usableFromInline
    func clear(_ index: Int) {
        while true {
            let address = slots[index].load(ordering: .acquiring)
            // A pinned slot: a canceller is following the address; wait for it.
            if address & 1 == 0, slots[index].compareExchange(expected: address, desired: 0, ordering: .sequentiallyConsistent).exchanged {
                return
            }
            sched_yield()
        }
    }

    @usableFromInline
    func unregister(_ ticket: Int) {
        _ = overflow.withLock { $0.removeValue(forKey: ticket) }
        overflowCount.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Calls running now.
    public var inFlight: Int {
        var count = overflowCount.load(ordering: .sequentiallyConsistent)
        for index in 0..<Self.slotCount where slots[index].load(ordering: .sequentiallyConsistent) != 0 { count += 1 }
        return count
    }

    /// Calls ever made in this version.
    public var total: Int { entered.load(ordering: .relaxed) }
    /// Calls that threw.
    public var failures: Int { failed.load(ordering: .relaxed) }

    /// Cancels every call running now (Task cancellation: it unwinds where
    /// it next checks); the number cancelled.
    ///
    /// Every slot is pinned before any task is cancelled, so the count is
    /// the calls running at one moment: cancelling a task ends every call
    /// it makes, and a nested call (a handler inside a middleware, both in
    /// one task) would otherwise leave before the pass reached its slot.
    func cancelAll() -> Int {
        var pinned: [(index: Int, address: UInt)] = []
        for index in 0..<Self.slotCount {
            let address = slots[index].load(ordering: .acquiring)
            guard address != 0, address & 1 == 0,
                slots[index].compareExchange(expected: address, desired: address | 1, ordering: .acquiringAndReleasing).exchanged
            else { continue }
            pinned.append((index, address))
        }
        // Pinned: none of these calls can leave, so each task is alive.
        let overflowed = overflow.withLock { calls in
            for address in calls.values where address != 0 { unsafeBitCast(address, to: UnsafeCurrentTask.self).cancel() }
            return calls.count
        }
        for (_, address) in pinned { unsafeBitCast(address, to: UnsafeCurrentTask.self).cancel() }
        for (index, address) in pinned { slots[index].store(address, ordering: .releasing) }
        return pinned.count + overflowed
    }

    /// Waits until no call runs, or `deadline` passes; the calls still running.
    func waitForEnd(until deadline: ContinuousClock.Instant) -> Int {
        waiters.add(1, ordering: .sequentiallyConsistent)
        defer { waiters.subtract(1, ordering: .sequentiallyConsistent) }
        return ended.withLock {
            while true {
                let running = inFlight
                if running == 0 { return running }
                // A call that leaves after the count broadcasts under this
                // lock, which the wait releases: the wake-up is not lost.
                if !ended.wait(until: deadline) { return inFlight }
            }
        }
    }
}
