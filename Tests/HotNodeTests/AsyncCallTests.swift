#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Hot
import HotPlatform
import Synchronization
import Testing

@testable import HotNode

/// Async exports through typed handles and the term bridge, and the rule
/// that a call in flight finishes in the version it started in, counted
/// there (docs/ARCHITECTURE.md, "Calls in flight"), over versions made in Swift.
@Suite("Async calls: typed handles, calls in flight")
struct AsyncCallTests {
    /// The thread the slow calls run on.
    static let callThread = ThreadExecutor(threads: 1)

    /// A node's `web` module: `hello(name)` answers with its version; `slow(n)`
    /// waits (cancellably) until `release` opens (or `slowFor` passes), then answers likewise;
    /// `opaque` takes a type that is not Codable.
    final class Web: Sendable {
        let release = Atomic<Bool>(false)
        /// How long `slow` runs when neither released nor cancelled: far
        /// longer than a test, whose own steps a busy test process may run
        /// a minute late, so that it never ends by itself before the test
        /// releases or cancels it.
        let slowFor: Double

        init(slowFor: Double = 300) { self.slowFor = slowFor }

        func exports(_ version: Int) -> [Export] {
            [
                .function("hello") { (name: String) async throws -> String in "v\(version) \(name)" },
                .function("slow") { [self] (n: Int) async throws -> String in
                    // Ends by itself after `slowFor`, so that a test whose cancellation is broken fails rather than hangs.
                    let deadline = monotonic() + slowFor
                    while !release.load(ordering: .acquiring), monotonic() < deadline { try await Task.sleep(for: .milliseconds(1)) }
                    return "v\(version) \(n)"
                },
                .function("opaque") { (o: Opaque) async throws -> Int in o.value + version },
                .function("pair") { (a: Int, b: Int) async throws -> Int in a * 100 + b + version * 10_000 },
            ]
        }

        /// Loads `web` v`version` into the node.
        func load(_ t: TestNode, _ version: Int, purge: Bool = false) throws -> [CodeServer.LoadResult] {
            let key = FakeLoader.key(Character(String(version % 10)))
            return try t.codeServer.load([t.loader.add("web", version, key: key, extra: exports(version))], purge: purge)
        }
    }

    struct Opaque: Sendable { let value: Int }

    /// Waits until `version` of `web` has `count` calls in flight; false after 5 s.
    static func waitForCalls(_ count: Int, in version: ModuleVersion?) async throws -> Bool {
        let deadline = monotonic() + 5
        while version?.calls.inFlight != count {
            if monotonic() > deadline { return false }
            try await Task.sleep(for: .milliseconds(1))
        }
        return true
    }

    /// A slow call started in web's current version, and that version.
    private func slowCall(_ t: TestNode, _ n: Int = 7) async throws -> (Task<String, any Error>, ModuleVersion?) {
        let slow = t.node.function("web", "slow", ((Int) async throws -> String).self)
        let version = t.codeServer.versions("web").current
        // On a thread of its own: the test process's cooperative pool may be
        // held for many seconds by other tests' synchronous waits, and the
        // call must see its release or its cancellation when it comes.
        let task = Task(executorPreference: Self.callThread) { try await slow(n) }
        #expect(try await Self.waitForCalls(1, in: version))
        return (task, version)
    }

    @Test("a typed async handle reaches the current version on every call, of one and two arguments")
    func reachesCurrent() async throws {
        let t = try TestNode()
        defer { t.close() }
        let web = Web()
        let hello = t.node.function("web", "hello", ((String) async throws -> String).self)
        let pair = t.node.function("web", "pair", ((Int, Int) async throws -> Int).self)
        await #expect(throws: CallError.undefinedModule("web")) { try await hello("x") }
        _ = try web.load(t, 1)
        #expect(try await hello("x") == "v1 x")
        #expect(try await pair(1, 2) == 10_102)
        _ = try web.load(t, 2)
        #expect(try await hello("y") == "v2 y")
        #expect(try await pair(1, 2) == 20_102)
        let v2 = t.codeServer.versions("web").current
        #expect(v2?.calls.total == 2)
        #expect(v2?.calls.inFlight == 0)
    }

    @Test("a call in flight finishes in the version it started in, counted there, after a load")
    func inFlightFinishesInOldVersion() async throws {
        let t = try TestNode()
        defer { t.close() }
        let web = Web()
        _ = try web.load(t, 1)
        let (call, v1) = try await slowCall(t)
        _ = try web.load(t, 2)
        let status = t.node.statusDocument().modules.first { $0.name == "web" }
        #expect(status?.old?.calls == 1)
        #expect(status?.current?.calls == 0)
        let hello = t.node.function("web", "hello", ((String) async throws -> String).self)
        #expect(try await hello("now") == "v2 now")
        web.release.store(true, ordering: .releasing)
        #expect(try await call.value == "v1 7")
        #expect(v1?.calls.inFlight == 0)
        #expect(v1?.calls.total == 1)
        #expect(v1?.calls.failures == 0)
    }

    @Test("a load that would drop a version with calls in flight waits the bound, then is refused not_purged")
    func loadRefusedAfterBound() async throws {
        let t = try TestNode(callsTimeout: 0.3)
        defer { t.close() }
        let web = Web()
        _ = try web.load(t, 1)
        let (call, _) = try await slowCall(t)
        _ = try web.load(t, 2)
        let started = monotonic()
        await #expect(throws: LoadError.notPurged(module: "web", pids: [], calls: 1)) { try await offPool { try web.load(t, 3) } }
        #expect(monotonic() - started >= 0.25)
        #expect(t.versions("web") == [2, 1])
        web.release.store(true, ordering: .releasing)
        #expect(try await call.value == "v1 7")
        #expect(try web.load(t, 3).map(\.to) == [3])
        #expect(t.versions("web") == [3, 2])
    }

    @Test("a load that waits for calls in old code goes ahead when they end within the bound")
    func loadWaitsForCalls() async throws {
        let t = try TestNode(callsTimeout: 10)
        defer { t.close() }
        let web = Web()
        _ = try web.load(t, 1)
        let (call, _) = try await slowCall(t)
        _ = try web.load(t, 2)
        try! startThread { usleep(100_000); web.release.store(true, ordering: .releasing) }
        #expect(try await offPool { try web.load(t, 3) }.map(\.to) == [3])
        #expect(try await call.value == "v1 7")
    }

    @Test("--purge cancels the calls in old code and says how many; a purge likewise")
    func purgeCancels() async throws {
        // A purge waits for cancelled calls only until they end; the bound is
        // for a machine busy enough to run a cancelled task seconds late, and
        // the slow calls must outlast it, or one could end by itself
        // rather than be cancelled.
        let t = try TestNode(purgeTimeout: 30)
        defer { t.close() }
        let web = Web()
        _ = try web.load(t, 1)
        let (first, v1) = try await slowCall(t)
        _ = try web.load(t, 2)
        let results = try await offPool { try web.load(t, 3, purge: true) }
        #expect(results.map(\.work.cancelledCalls) == [1])
        #expect(results.map(\.work.unendedCalls) == [0])
        await #expect(throws: CancellationError.self) { try await first.value }
        #expect(v1?.calls.failures == 1)
        #expect(t.versions("web") == [3, 2])

        let (second, v3) = try await slowCall(t)
        _ = try web.load(t, 4)
        #expect(v3?.calls.inFlight == 1)
        let purged = try await offPool { try t.codeServer.purge("web") }
        #expect(purged.version == 3)
        #expect(purged.work.cancelledCalls == 1)
        #expect(purged.work.unendedCalls == 0)
        await #expect(throws: CancellationError.self) { try await second.value }
        #expect(t.versions("web") == [4, nil])
    }

    @Test("soft purge and delete refuse while calls run in old code")
    func softPurgeAndDeleteRefuse() async throws {
        let t = try TestNode(callsTimeout: 0.1)
        defer { t.close() }
        let web = Web()
        _ = try web.load(t, 1)
        let (call, _) = try await slowCall(t)
        _ = try web.load(t, 2)
        await #expect(throws: LoadError.notPurged(module: "web", pids: [], calls: 1)) { try await offPool { try t.codeServer.softPurge("web") } }
        await #expect(throws: LoadError.notPurged(module: "web", pids: [], calls: 1)) { try await offPool { try t.codeServer.delete("web") } }
        #expect(t.versions("web") == [2, 1])
        web.release.store(true, ordering: .releasing)
        _ = try await call.value
        #expect(try t.codeServer.softPurge("web") == 1)
    }

    @Test("a call over terms reaches an async export through the bridge, counted; a non-Codable one is refused")
    func termBridge() async throws {
        let t = try TestNode()
        defer { t.close() }
        let web = Web()
        _ = try web.load(t, 1)
        let exports = t.codeServer.exports
        #expect(try await offPool { try exports.call("web", "hello", [.string("term")]) } == .string("v1 term"))
        #expect(try await offPool { try exports.call("web", "hello", argument: .string("one")) } == .string("v1 one"))
        #expect(try await offPool { try exports.call("web", "pair", [.int(3), .int(4)]) } == .int(10_304))
        #expect(t.codeServer.versions("web").current?.calls.total == 3)
        // From inside a task the bridge refuses rather than block a thread of the pool.
        #expect(throws: CallError.self) { try exports.call("web", "hello", [.string("task")]) }
        do {
            _ = try await offPool { try exports.call("web", "opaque", [.int(1)]) }
            Issue.record("a non-Codable async export was called over terms")
        } catch let error as CallError {
            guard case .notCallable(_, let reason) = error else { throw error }
            #expect(reason.contains("typed handle"))
        }
        await #expect(throws: CallError.badArgument(function: "hello", index: 0, reason: "top level: expected string, found int")) {
            try await offPool { try exports.call("web", "hello", [.int(1)]) }
        }
    }

    @Test("a call over terms is answered while every thread of the cooperative pool is blocked")
    func termBridgeWithoutThePool() throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try Web().load(t, 1)
        // More blocked tasks than the pool has threads: until released, no
        // task that needs the pool can run.
        final class Gate: Sendable {
            let release = Atomic<Bool>(false)
            let blocked = Atomic<Int>(0)
        }
        let gate = Gate()
        for _ in 0..<(processorCount() * 2 + 2) {
            Task.detached {
                gate.blocked.add(1, ordering: .relaxed)
                while !gate.release.load(ordering: .acquiring) { usleep(1000) }
            }
        }
        defer { gate.release.store(true, ordering: .releasing) }
        let started = monotonic()
        while gate.blocked.load(ordering: .relaxed) < max(1, processorCount() - 1), monotonic() - started < 5 { usleep(1000) }
        // This test's own thread is the pool's too: the call goes from a thread of the node's kind.
        let answer = Mutex<Result<Term, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        try! startThread {
            answer.withLock { $0 = Result { try t.codeServer.exports.call("web", "hello", [.string("busy")]) } }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success, "the bridged call waited for the pool")
        #expect(try answer.withLock { $0 }?.get() == .string("v1 busy"))
    }

    @Test("a non-Codable async export is reached through a typed handle")
    func opaqueThroughHandle() async throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try Web().load(t, 2)
        let opaque = t.node.function("web", "opaque", ((Opaque) async throws -> Int).self)
        #expect(try await opaque(Opaque(value: 5)) == 7)
    }

    @Test("a handle of the wrong type is refused, naming the type")
    func wrongType() async throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try Web().load(t, 1)
        let wrong = t.node.function("web", "hello", ((Int) async throws -> String).self)
        let reason = "web v1 has it as (String) async throws -> String, the host calls it as (Int) async throws -> String"
        await #expect(throws: CallError.notCallable(function: "web:hello", reason: reason)) {
            try await wrong(1)
        }
        let sync = t.codeServer.exports.function("web", "hello", ((String) throws -> String).self)
        #expect(throws: CallError.self) { try sync("x") }
        let asyncOnSync = t.node.function("web", "version", ((Int) async throws -> Int).self)
        await #expect(throws: CallError.self) { try await asyncOnSync(1) }
        let missing = t.node.function("web", "nothing", ((Int) async throws -> Int).self)
        await #expect(throws: CallError.undefinedFunction(module: "web", function: "nothing")) { try await missing(1) }
    }
}
