#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Synchronization
import Testing

@testable import HotNode

/// Many async calls at once through typed handles and the term bridge,
/// while loads with purge swap versions and cancel the slow calls, and
/// status and metrics read the counts: the counting must balance, and under
/// ThreadSanitizer (`make tsan`) race-free.
@Suite("Calls in flight under load")
struct InFlightStressTests {
    @Test("calls counted in flight balance across concurrent calls, loads, purges and reads")
    func countsBalance() async throws {
        let t = try TestNode(purgeTimeout: 5, callsTimeout: 5)
        defer { t.close() }
        // A slow call the purges somehow miss ends by itself well inside
        // `make tsan`'s bound, so that the test fails rather than hangs.
        let web = AsyncCallTests.Web(slowFor: 120)
        _ = try web.load(t, 1)
        let hello = t.node.function("web", "hello", ((String) async throws -> String).self)
        let slow = t.node.function("web", "slow", ((Int) async throws -> String).self)
        let exports = t.codeServer.exports
        let (callers, callsEach, loads) = (6, 300, 20)
        let slowCalls = callers * (callsEach / 50)
        let counts = Counts()

        // Loads with purge, status and metrics reads, and term calls, each on
        // a thread of its own. A slow call ends only when a purge cancels it,
        // and a slow caller may start its last one after the twentieth load:
        // the loads go on, a millisecond apart, until every slow call was
        // cancelled (or a minute has passed, and the counts below say so).
        async let loading: Void = offPool {
            var version = 2
            let deadline = ContinuousClock.now + .seconds(60)
            while version <= loads + 1 || (counts.cancelled.load(ordering: .relaxed) < slowCalls && ContinuousClock.now < deadline) {
                _ = try web.load(t, version, purge: true)
                if version <= loads + 1 {
                    _ = t.node.statusDocument()
                    t.codeServer.metrics.publish(t.codeServer)
                } else {
                    usleep(1_000)
                }
                version += 1
            }
        }
        async let bridging: Void = offPool {
            for _ in 0..<callsEach {
                _ = try exports.call("web", "hello", [.string("term")])
                counts.bridged.add(1, ordering: .relaxed)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    for call in 0..<callsEach {
                        if call % 50 == 0 {
                            do { _ = try await slow(caller) } catch is CancellationError { counts.cancelled.add(1, ordering: .relaxed) }
                        } else {
                            #expect(try await hello("x").hasPrefix("v"))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await loading
        try await bridging

        let figures = t.codeServer.figures()
        #expect(figures.inFlight == 0)
        #expect(figures.calls == callers * callsEach + counts.bridged.load(ordering: .relaxed))
        #expect(figures.failedCalls == counts.cancelled.load(ordering: .relaxed))
        #expect(counts.cancelled.load(ordering: .relaxed) == slowCalls)
    }

    @Test("a purge counts every nested call of a task it cancels, though they end at once")
    func nestedCallsCountedWhole() async throws {
        // A middleware calling a handler is two calls in one task: cancelling
        // the task for the first ends the second at once. The count must still
        // be every call running when the purge came.
        let (rounds, depth) = (20, 8)
        for _ in 0..<rounds {
            let calls = CallsInFlight()
            let task = Task {
                var tokens: [CallsInFlight.Token] = []
                for _ in 0..<depth { tokens.append(calls.enter()) }
                // The outer handler runs after the sleep's own, which has woken
                // the task: it holds the purging thread as a busy machine would,
                // while the task unwinds its calls.
                // A day: only the cancellation ends it, however late a starved pool runs the purge.
                let slept: Void? = await withTaskCancellationHandler {
                    try? await Task.sleep(for: .seconds(86_400))
                } onCancel: {
                    usleep(20_000)
                }
                for token in tokens.reversed() { calls.leave(token, failed: slept == nil) }
            }
            var waited = 0
            while calls.inFlight < depth, waited < 5_000 { try await Task.sleep(for: .milliseconds(1)); waited += 1 }
            try #require(calls.inFlight == depth)
            #expect(calls.cancelAll() == depth)
            await task.value
            #expect(calls.inFlight == 0)
            #expect(calls.failures == depth)
        }
    }
}

/// What the stress test's callers saw, shared across its tasks and threads.
private final class Counts: Sendable {
    let cancelled = Atomic<Int>(0)
    let bridged = Atomic<Int>(0)
}
