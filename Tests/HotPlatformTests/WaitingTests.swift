import HotPlatform
import Synchronization
import Testing

/// The waiting primitives: a latch's deadline, an executor's threads, the
/// arithmetic of durations that system calls take.
@Suite("Waiting")
struct WaitingTests {
    @Test("a latch waited on until a deadline: false once it passed, true at once when open")
    func latchDeadline() {
        let latch = Latch()
        let started = ContinuousClock.now
        #expect(!latch.wait(until: .now + .milliseconds(100)))
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        latch.open()
        let opened = ContinuousClock.now
        #expect(latch.wait(until: .now + .seconds(10)))
        #expect(ContinuousClock.now - opened < .seconds(1))
    }

    @Test("a condition woken before its deadline returns at once, not at the deadline")
    func conditionWakes() throws {
        let condition = Condition()
        let flag = Mutex(false)
        try startThread {
            pause(for: .milliseconds(50))
            condition.withLock {
                flag.withLock { $0 = true }
                condition.broadcast()
            }
        }
        let started = ContinuousClock.now
        condition.withLock {
            while !flag.withLock({ $0 }) {
                if !condition.wait(until: .now + .seconds(10)) { break }
            }
        }
        #expect(flag.withLock { $0 })
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("an executor of two threads runs a second job while its first thread is blocked, though the first thread was idle")
    func secondThreadStartsForABlockedFirst() async {
        let executor = ThreadExecutor(threads: 2)
        // One thread started and idle again.
        await Task(executorPreference: executor) {}.value
        let gate = Latch()
        let blocked = Task(executorPreference: executor) { gate.wait(until: .now + .seconds(10)) }
        let opener = Task(executorPreference: executor) { gate.open() }
        await opener.value
        #expect(await blocked.value, "the second job ran on a second thread and let the first go")
    }

    @Test("durations as poll(2) and messages take them")
    func durationArithmetic() {
        #expect(Duration.milliseconds(1500).pollMilliseconds == 1500)
        #expect(Duration.nanoseconds(1).pollMilliseconds == 1, "rounded up, so a wait does not spin")
        #expect(Duration.seconds(-1).pollMilliseconds == 0)
        #expect(Duration.seconds(1_000_000_000).pollMilliseconds == Int32.max)
        #expect(Duration.milliseconds(250).shortDescription == "250 ms")
        #expect(Duration.seconds(60).shortDescription == "60 s")
        #expect(Duration.milliseconds(1500).shortDescription == "1.5 s")
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
    }

    @Test("a semaphore hands out its units, times out when none is left, and wakes a waiter when one comes back")
    func semaphore() throws {
        let slots = CountingSemaphore(units: 2)
        #expect(slots.wait(until: ContinuousClock.now))
        #expect(slots.wait(until: nil))
        let started = ContinuousClock.now
        #expect(!slots.wait(until: ContinuousClock.now + .milliseconds(100)))
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        try startThread {
            pause(for: .milliseconds(50))
            slots.signal()
        }
        let waited = ContinuousClock.now
        #expect(slots.wait(until: ContinuousClock.now + .seconds(10)))
        #expect(ContinuousClock.now - waited < .seconds(5))
    }

    @Test("concurrentMap with a deadline returns what finished by then, and nil for an item still running")
    func fanOutDeadline() {
        let release = Latch()
        let started = ContinuousClock.now
        let results = concurrentMap([0, 1], width: 2, timeout: .milliseconds(200)) { item -> Int in
            if item == 1 { _ = release.wait(until: .now + .seconds(10)) }
            return item
        }
        release.open()
        #expect(results == [0, nil])
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(concurrentMap([1, 2, 3], width: 3) { $0 * 2 } == [2, 4, 6])
    }
}
