#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire
import Synchronization
import Testing

@testable import HotNode

/// A load the node dies in is remembered: a marker names each new object
/// while its code runs, a marker found at boot refuses that build until a
/// forced load, and a trial never holds the load lock.
@Suite("Death in load")
struct DeathInLoadTests {
    @Test("the marker names the object while its code runs, and is gone when the load returns, loaded or refused")
    func markerDuringLoad() throws {
        struct Refused: Error {}
        let t = try TestNode()
        defer { t.close() }
        let marker = t.codeServer.journal!.markerPath
        let seen = Mutex<String?>(nil)
        let v1 = t.loader.add("calc", 1, onLoad: {
            seen.withLock { $0 = readFile(marker).map { String(decoding: $0, as: UTF8.self) } }
        })
        _ = try t.codeServer.load([v1])
        let text = try #require(seen.withLock { $0 }, "no marker while the on-load hook ran")
        #expect(text.contains("\"calc\"") && text.contains(lastPathComponent(v1)), "\(text)")
        #expect(!fileExists(marker), "the marker must go once the load returned")

        let v2 = t.loader.add("calc", 2, key: FakeLoader.key("b"), onLoad: { throw Refused() })
        #expect(throws: LoadError.self) { try t.codeServer.load([v2]) }
        #expect(!fileExists(marker), "the marker must go when the load failed too")
        // A version already loaded runs no code: no marker is written for it.
        _ = try t.codeServer.load([v1])
        #expect(!fileExists(marker))
    }

    @Test("a marker found at boot refuses that build, names it, shows it in status, and keeps it across restarts until a forced load")
    func deathRefusesUntilForced() throws {
        let t = try TestNode()
        defer { t.close() }
        let key = FakeLoader.key("c")
        let v3 = t.loader.add("hello", 3, key: key)
        let journal = try #require(t.codeServer.journal)
        // What a node that died in this load leaves behind.
        try journal.begin("hello", version: 3, key: String(key.prefix(12)), file: lastPathComponent(v3))
        t.node.boot()
        #expect(!fileExists(journal.markerPath), "boot must consume the marker")

        do {
            _ = try t.codeServer.load([v3])
            Issue.record("a build the node died loading was loaded again")
        } catch {
            guard case .diedInLoad(let death) = error else { Issue.record("\(error)"); return }
            #expect(death.module == "hello" && death.version == 3 && key.hasPrefix(death.key), "\(death)")
            let message = error.description
            #expect(message.contains("the node died while loading hello v3"), "\(message)")
            #expect(message.contains(String(key.prefix(12))) && message.contains("--force"), "\(message)")
        }
        #expect(t.loader.entered.isEmpty && t.loader.trials.isEmpty, "nothing of a refused build may run")
        // A check (the deploy's staging) still passes: the trial is not what failed.
        try t.codeServer.check([v3])

        let refused = try #require(t.node.statusDocument().refused)
        #expect(refused.map(\.module) == ["hello"] && refused.map(\.version) == [3], "\(refused)")
        // Kept in the state folder: a node started again refuses it still.
        #expect(LoadJournal(stateFolder: t.node.store.root).death("hello", version: 3, key: key) != nil)
        // Another build of the module is not refused.
        _ = try t.codeServer.load([t.loader.add("hello", 4, key: FakeLoader.key("d"))])

        _ = try t.codeServer.load([v3], force: true)
        #expect(t.versions("hello") == [3, 4])
        #expect(t.node.statusDocument().refused == nil, "a forced load that returned clears the refusal")
        #expect(LoadJournal(stateFolder: t.node.store.root).deaths.isEmpty)
    }

    @Test("a trial load runs outside the load lock: a hung trial does not hold up another client's load")
    func trialOutsideLoadLock() throws {
        let t = try TestNode()
        defer { t.close() }
        let slow = t.loader.add("slow", 1)
        let gate = Gate()
        t.loader.holdTrial(slow, at: gate)
        let server = t.codeServer
        let finished = Mutex(false)
        try! startThread {
            _ = try? server.load([slow])
            finished.withLock { $0 = true }
        }
        // Let the slow load reach its trial.
        let deadline = monotonic() + 5
        while !t.loader.trials.contains(slow) && monotonic() < deadline { usleep(1_000) }
        try #require(t.loader.trials.contains(slow))

        let other = Mutex<[CodeServer.LoadResult]?>(nil)
        let fast = t.loader.add("fast", 1)
        try! startThread {
            let result = try? server.load([fast])
            other.withLock { $0 = result }
        }
        let otherDeadline = monotonic() + 2
        while other.withLock({ $0 }) == nil && monotonic() < otherDeadline { usleep(1_000) }
        let loaded = other.withLock { $0 }
        gate.open()
        while !finished.withLock({ $0 }) && monotonic() < deadline + 5 { usleep(1_000) }
        #expect(loaded == [CodeServer.LoadResult(module: "fast", from: nil, to: 1)], "the other load waited for the hung trial")
        #expect(finished.withLock { $0 } && t.versions("slow") == [1, nil])
    }
}
