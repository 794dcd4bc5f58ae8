import HotPlatform
import Testing

/// The project's lock. `make tsan` runs this suite too: four threads that
/// contend for one lock make the futex hand it over in the kernel, the case
/// ThreadSanitizer cannot see by itself, so a build that stopped telling it
/// about each hold fails there with a reported race.
@Suite("Locked")
struct LockedTests {
    /// State guarded by the lock alone: an unsynchronized counter and a
    /// record of overlapping holds.
    final class Guarded: @unchecked Sendable {
        var count = 0
        var inside = false
        var overlaps = 0
    }

    @Test("threads contending for one lock each hold it alone, and no update is lost")
    func contention() throws {
        let lock = Locked(())
        let guarded = Guarded()
        let threads = 4, rounds = 50_000
        let finished = CountingSemaphore(units: 0)
        for _ in 0..<threads {
            try startThread {
                defer { finished.signal() }
                for _ in 0..<rounds {
                    lock.withLock { _ in
                        if guarded.inside { guarded.overlaps += 1 }
                        guarded.inside = true
                        guarded.count += 1
                        guarded.inside = false
                    }
                }
            }
        }
        for _ in 0..<threads { #expect(finished.wait(until: .now + .seconds(120))) }
        lock.withLock { _ in
            #expect(guarded.count == threads * rounds)
            #expect(guarded.overlaps == 0)
        }
    }

    @Test("a value moves in and out of the lock, and an error thrown inside leaves it as the body left it")
    func valueAndErrors() {
        struct Refused: Error {}
        let lock = Locked([Int]())
        lock.withLock { $0.append(1) }
        #expect(throws: Refused.self) {
            try lock.withLock { (value: inout [Int]) throws(Refused) in
                value.append(2)
                throw Refused()
            }
        }
        #expect(lock.withLock { $0 } == [1, 2])
    }
}
