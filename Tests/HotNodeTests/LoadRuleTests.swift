import Hot
import Testing

@testable import HotNode

/// The code server's load rules (Erlang's code_server), over versions made in
/// Swift: no compiler, no dlopen. The end-to-end suite runs the same rules
/// over real objects.
@Suite("Code server: loads")
struct LoadRuleTests {
    @Test("a load makes the version current; the next one makes it old")
    func load() throws {
        let t = try TestNode()
        defer { t.close() }
        let v1 = t.loader.add("calc", 1)
        #expect(try t.codeServer.load([v1]) == [CodeServer.LoadResult(module: "calc", from: nil, to: 1)])
        #expect(t.versions("calc") == [1, nil])
        #expect(try t.calledVersion("calc") == 1)

        let v2 = t.loader.add("calc", 2, key: FakeLoader.key("b"))
        #expect(try t.codeServer.load([v2]) == [CodeServer.LoadResult(module: "calc", from: 1, to: 2)])
        #expect(t.versions("calc") == [2, 1])
        #expect(try t.calledVersion("calc") == 2, "an external call reaches the current version")
    }

    @Test("a load drops old when no process runs it: v3 makes v2 old and v1 gone")
    func autoSoftPurge() throws {
        let t = try TestNode()
        defer { t.close() }
        for (version, key) in [(1, "a"), (2, "b"), (3, "c")] {
            _ = try t.codeServer.load([t.loader.add("calc", version, key: FakeLoader.key(Character(key)))])
        }
        #expect(t.versions("calc") == [3, 2])
        #expect(t.codeServer.retainedBytes() == 4096, "v1 stays mapped, counted as retained")
    }

    @Test("loading the version already loaded reuses it: its code does not run again")
    func sameVersionAgain() throws {
        let t = try TestNode()
        defer { t.close() }
        let v1 = t.loader.add("calc", 1)
        _ = try t.codeServer.load([v1])
        #expect(try t.codeServer.load([v1]) == [CodeServer.LoadResult(module: "calc", from: 1, to: 1)])
        #expect(t.loader.entered == [v1])
        #expect(t.versions("calc") == [1, nil])
    }

    @Test("a version number held under another key is refused, naming both keys, before any code runs")
    func versionNumberTaken() throws {
        let t = try TestNode()
        defer { t.close() }
        let (a, b, c) = (FakeLoader.key("a"), FakeLoader.key("b"), FakeLoader.key("c"))
        let v1 = t.loader.add("calc", 1, key: a)
        _ = try t.codeServer.load([v1])
        let other = t.loader.add("calc", 1, key: b)
        let taken = LoadError.versionTaken(module: "calc", version: 1, loadedKey: a, key: String(b.prefix(12)))
        #expect(throws: taken) { try t.codeServer.load([other]) }
        #expect(throws: taken, "a deploy's check refuses it while staging") { try t.codeServer.check([other]) }
        #expect(taken.description.contains(String(a.prefix(12))) && taken.description.contains(String(b.prefix(12))))

        // Held as old, the number is still taken; a copy whose file name
        // says nothing is caught by its descriptor.
        _ = try t.codeServer.load([t.loader.add("calc", 2, key: c)])
        #expect(throws: taken) { try t.codeServer.load([other]) }
        let copy = t.loader.alias(other, as: "calc-copy.so")
        #expect(throws: LoadError.versionTaken(module: "calc", version: 1, loadedKey: a, key: b)) {
            try t.codeServer.load([copy])
        }
        #expect(!t.loader.entered.contains(other) && !t.loader.entered.contains(copy))
        #expect(t.versions("calc") == [2, 1])

        // Two builds of one number in one load.
        let x1 = t.loader.add("other", 1, key: a)
        let y1 = t.loader.add("other", 1, key: b)
        #expect(throws: LoadError.versionTaken(module: "other", version: 1, loadedKey: a, key: String(b.prefix(12)))) {
            try t.codeServer.load([x1, y1])
        }
        #expect(t.versions("other") == [nil, nil])
    }

    @Test("an earlier build loads again: as old it swaps back, dropped it loads anew")
    func earlierBuild() throws {
        let t = try TestNode()
        defer { t.close() }
        let v1 = t.loader.add("calc", 1, key: FakeLoader.key("a"))
        let v2 = t.loader.add("calc", 2, key: FakeLoader.key("b"))
        _ = try t.codeServer.load([v1])
        _ = try t.codeServer.load([v2])
        #expect(try t.codeServer.load([v1]) == [CodeServer.LoadResult(module: "calc", from: 2, to: 1)])
        #expect(t.versions("calc") == [1, 2])
        #expect(t.loader.entered == [v1, v2], "old v1 is made current again, not loaded again")

        _ = try t.codeServer.load([t.loader.add("calc", 3, key: FakeLoader.key("c"))])
        #expect(t.versions("calc") == [3, 1])
        #expect(try t.codeServer.load([v2]) == [CodeServer.LoadResult(module: "calc", from: 3, to: 2)])
        #expect(t.versions("calc") == [2, 3])
        #expect(try t.calledVersion("calc") == 2)
    }

    @Test("rollback makes old current and current old; without old there is nothing to roll back to")
    func rollback() throws {
        let t = try TestNode()
        defer { t.close() }
        #expect(throws: LoadError.noFile("calc")) { try t.codeServer.rollback("calc") }
        _ = try t.codeServer.load([t.loader.add("calc", 1)])
        #expect(throws: LoadError.self) { try t.codeServer.rollback("calc") }
        _ = try t.codeServer.load([t.loader.add("calc", 2, key: FakeLoader.key("b"))])

        #expect(try t.codeServer.rollback("calc") == CodeServer.LoadResult(module: "calc", from: 2, to: 1))
        #expect(t.versions("calc") == [1, 2])
        #expect(try t.calledVersion("calc") == 1)
        #expect(try t.codeServer.rollback("calc") == CodeServer.LoadResult(module: "calc", from: 1, to: 2))
        #expect(try t.calledVersion("calc") == 2)
    }

    @Test("a sticky module refuses reload and delete unless forced, before any of the new code runs")
    func sticky() throws {
        let t = try TestNode(sticky: ["calc"])
        defer { t.close() }
        _ = try t.codeServer.load([t.loader.add("calc", 1)])
        let v2 = t.loader.add("calc", 2, key: FakeLoader.key("b"))
        #expect(throws: LoadError.sticky(module: "calc")) { try t.codeServer.load([v2]) }
        #expect(throws: LoadError.sticky(module: "calc")) { try t.codeServer.delete("calc") }
        #expect(!t.loader.entered.contains(v2) && !t.loader.trials.contains(v2))
        #expect(t.versions("calc") == [1, nil])

        #expect(try t.codeServer.load([v2], force: true) == [CodeServer.LoadResult(module: "calc", from: 1, to: 2)])
        #expect(try t.calledVersion("calc") == 2)
    }

    @Test("when one on-load hook throws, no module of the load becomes current")
    func atomicLoad() throws {
        struct Refused: Error {}
        let t = try TestNode()
        defer { t.close() }
        let a1 = t.loader.add("alpha", 1)
        let b1 = t.loader.add("beta", 1, onLoad: { throw Refused() })
        #expect(throws: LoadError.onLoadFailure(module: "beta", message: "Refused()")) {
            try t.codeServer.load([a1, b1])
        }
        #expect(t.versions("alpha") == [nil, nil] && t.versions("beta") == [nil, nil])
        #expect(try t.calledVersion("alpha") == nil)

        _ = try t.codeServer.load([a1])
        let a2 = t.loader.add("alpha", 2, key: FakeLoader.key("b"))
        #expect(throws: LoadError.self) { try t.codeServer.load([a2, b1]) }
        #expect(t.versions("alpha") == [1, nil], "alpha v2 ran its on-load, yet stays out")
        #expect(try t.calledVersion("alpha") == 1)
    }

    @Test("delete makes current old and external calls undefined until the next load")
    func delete() throws {
        let t = try TestNode()
        defer { t.close() }
        #expect(throws: LoadError.noFile("calc")) { try t.codeServer.delete("calc") }
        _ = try t.codeServer.load([t.loader.add("calc", 1)])
        #expect(try t.codeServer.delete("calc") == 1)
        #expect(t.versions("calc") == [nil, 1])
        #expect(throws: CallError.undefinedModule("calc")) { try t.codeServer.exports.call("calc", "version", []) }
        #expect(throws: LoadError.noFile("calc"), "nothing current to delete") { try t.codeServer.delete("calc") }

        _ = try t.codeServer.load([t.loader.add("calc", 2, key: FakeLoader.key("b"))])
        #expect(try t.calledVersion("calc") == 2)
    }

    @Test("a new object is trial-loaded before its code runs here; a failed trial refuses it")
    func trial() throws {
        let t = try TestNode()
        defer { t.close() }
        let v1 = t.loader.add("calc", 1)
        try t.codeServer.check([v1])
        #expect(t.loader.trials == [v1] && t.loader.entered.isEmpty, "a check loads nothing")
        _ = try t.codeServer.load([v1])
        try t.codeServer.check([v1])
        #expect(t.loader.trials == [v1], "a load after a check, and a check of a version loaded already, run no trial")

        let v2 = t.loader.add("calc", 2, key: FakeLoader.key("b"))
        t.loader.failTrial(v2)
        #expect(throws: LoadError.self) { try t.codeServer.load([v2]) }
        #expect(!t.loader.entered.contains(v2))
        #expect(t.versions("calc") == [1, nil])
    }
}
