import Hot
import HotPlatform
import Synchronization
import Testing

@testable import HotNode

/// Erlang's two code loading modes, and boot, over a build folder of
/// versions made in Swift.
@Suite("Node: interactive and embedded modes")
struct ModeTests {
    @Test("interactive: a call to a module built after boot loads its newest version")
    func interactiveLoadsOnDemand() throws {
        let t = try TestNode(mode: .interactive)
        defer { t.close() }
        t.node.boot()
        try t.build("calc", 1)
        try t.build("calc", 2, key: FakeLoader.key("b"))
        #expect(try t.calledVersion("calc") == 2)
        #expect(t.versions("calc") == [2, nil])
        #expect(try t.calledVersion("nothing") == nil, "a module nobody built stays undefined")
    }

    @Test("interactive: a spawn loads the module on demand too")
    func interactiveSpawn() throws {
        let t = try TestNode(mode: .interactive)
        defer { t.close() }
        try t.build("calc", 1)
        let pid = try t.spawn("calc")
        #expect(t.versions("calc") == [1, nil])
        t.poke(pid)
        #expect(t.waitForEnd(pid))
    }

    @Test("interactive: a deleted module is not loaded again by a call")
    func interactiveKeepsDeleteDeleted() throws {
        let t = try TestNode(mode: .interactive)
        defer { t.close() }
        try t.build("calc", 1)
        #expect(try t.calledVersion("calc") == 1)
        _ = try t.codeServer.delete("calc")
        #expect(try t.calledVersion("calc") == nil)
        #expect(t.versions("calc") == [nil, 1])
    }

    @Test("embedded: boot loads what is built and records it; a module built later stays undefined")
    func embedded() throws {
        let t = try TestNode(mode: .embedded)
        defer { t.close() }
        try t.build("calc", 1)
        t.node.boot()
        #expect(t.versions("calc") == [1, nil])
        #expect(t.node.permanentVersions() == ["calc": 1])

        try t.build("late", 1)
        #expect(try t.calledVersion("late") == nil)
        #expect(throws: CallError.undefinedModule("late")) { try t.spawn("late") }
        #expect(t.versions("late") == [nil, nil])
    }

    @Test("boot skips a module that fails to load and boots the others")
    func bootSkipsBadModule() throws {
        let t = try TestNode(mode: .embedded)
        defer { t.close() }
        try t.build("calc", 1)
        t.loader.failTrial(try t.build("bad", 1))
        t.node.boot()
        #expect(t.versions("calc") == [1, nil])
        #expect(t.versions("bad") == [nil, nil])
        #expect(t.node.permanentVersions() == ["calc": 1])
    }
}

/// A load from inside a load: an on-load hook that calls a module not loaded
/// yet, in interactive mode, would take the load lock its own load holds.
@Suite("Node: a load caused inside a load")
struct ReentrantLoadTests {
    @Test("an on-load hook calling a module not loaded yet gets undefined, and the load finishes")
    func onLoadCallsUnloadedModule() throws {
        let t = try TestNode(mode: .interactive)
        defer { t.close() }
        try t.build("calc", 1)
        let seen = Mutex<String?>(nil)
        let folder = "\(t.codePath)/caller"
        try makeDirectories(folder)
        // Through this node's export table: `Modules.call` goes to whichever
        // node installed itself last, and tests run side by side.
        let exports = t.codeServer.exports
        let path = t.loader.add("caller", 1, folder: folder, onLoad: {
            do {
                _ = try exports.call("calc", "version", [])
                seen.withLock { $0 = "answered" }
            } catch {
                seen.withLock { $0 = "\(error)" }
            }
        })
        try writeFileAtomically(path, [])
        // On a thread of its own, so that a load waiting for itself fails
        // the test at the deadline instead of hanging the run.
        let codeServer = t.codeServer
        let finished = concurrentMap([path], width: 1, timeout: .seconds(10)) { path in
            (try? codeServer.load([path])) != nil
        }
        #expect(finished == [true], "the load waited for itself")
        #expect(seen.withLock { $0 }?.contains("calc") == true, "\(String(describing: seen.withLock { $0 }))")
        #expect(t.versions("caller") == [1, nil])
        // Outside the load, the same call loads calc on demand as usual.
        #expect(try t.calledVersion("calc") == 1)
    }
}
