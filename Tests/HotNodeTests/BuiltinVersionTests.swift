import Hot
import HotPlatform
import Logging
import Synchronization
import Testing

@testable import HotNode

/// The rules of built-in versions (docs/ARCHITECTURE.md, "Built-in
/// versions"): version 0 of a module the host links, booted beside or under
/// the builds made for this host, and returned to by a rollback.
@Suite("Node: built-in versions")
struct BuiltinVersionTests {
    @Test("a built-in module boots as v0 with no build, no trial, and is not recorded as permanent")
    func bootsBuiltIn() throws {
        let t = try TestNode(mode: .embedded)
        defer { t.close() }
        t.loader.add("todos", 0, key: FakeLoader.key("0"))
        t.node.boot()
        #expect(t.versions("todos") == [0, nil])
        #expect(try t.calledVersion("todos") == 0)
        #expect(t.loader.trials.isEmpty)
        #expect(t.node.permanentVersions() == [:])
        let module = try #require(t.node.statusDocument().modules.first)
        #expect(module.builtIn == true && module.current?.version == 0 && module.current?.file == "builtin:todos")
    }

    @Test("a build made for this host boots over the built-in version, which stays the module's built-in one")
    func buildForThisHostWins() throws {
        let t = try TestNode(mode: .embedded)
        defer { t.close() }
        t.loader.add("todos", 0, key: FakeLoader.key("0"))
        try t.build("todos", 2, key: FakeLoader.key("b"), host: HostFingerprint.current)
        t.node.boot()
        #expect(t.versions("todos") == [2, nil])
        #expect(t.node.permanentVersions() == ["todos": 2])
        #expect(t.node.statusDocument().modules.first?.builtIn == true)
    }

    @Test("a build made for another build of the host is skipped with one line naming it, and the built-in version boots")
    func otherHostBuildSkipped() throws {
        let lines = LogLines()
        let t = try TestNode(mode: .embedded, logger: Logger(label: "test") { _ in lines.handler() })
        defer { t.close() }
        t.loader.add("todos", 0, key: FakeLoader.key("0"))
        let stale = try t.build("todos", 3, key: FakeLoader.key("c"), host: "1a2b3c4d5e6f7a8b9c0d")
        try PermanentSet(stateFolder: t.node.store.root).write(["todos": stale])
        t.node.boot()
        #expect(t.versions("todos") == [0, nil])
        let skipped = lines.all.filter { $0.contains("skipped") }
        #expect(skipped.count == 1, "\(lines.all)")
        #expect(skipped.first?.contains("todos v3 (\(lastPathComponent(stale)))") == true, "\(skipped)")
        #expect(skipped.first?.contains("another build of the host (1a2b3c4d5e6f7a8b)") == true, "\(skipped)")
        #expect(skipped.first?.contains("built-in v0") == true && skipped.first?.contains("`hot deploy`") == true, "\(skipped)")
        // The set still names the skipped build: the next deploy replaces it.
        #expect(t.node.permanentVersions() == ["todos": 3])
        #expect(t.loader.entered == ["builtin:todos"])
    }

    @Test("with no built-in version, a build for another host build leaves the module unloaded, said in one line")
    func otherHostBuildNoBuiltIn() throws {
        let lines = LogLines()
        let t = try TestNode(mode: .embedded, logger: Logger(label: "test") { _ in lines.handler() })
        defer { t.close() }
        try t.build("todos", 3, host: "1a2b3c4d5e6f7a8b9c0d")
        t.node.boot()
        #expect(t.versions("todos") == [nil, nil])
        let skipped = lines.all.filter { $0.contains("skipped todos v3") }
        #expect(skipped.count == 1 && skipped[0].contains("todos has no version until `hot deploy`"), "\(lines.all)")
    }

    @Test("a deploy loads over the built-in version, and rollback returns to it once old is gone, entering it once")
    func rollbackToBuiltIn() throws {
        let t = try TestNode(mode: .embedded)
        defer { t.close() }
        t.loader.add("todos", 0, key: FakeLoader.key("0"))
        t.node.boot()
        let v1 = t.loader.add("todos", 1, key: FakeLoader.key("1"))
        let v2 = t.loader.add("todos", 2, key: FakeLoader.key("2"))
        _ = try t.codeServer.load([v1])
        #expect(t.versions("todos") == [1, 0])
        _ = try t.codeServer.load([v2])
        #expect(t.versions("todos") == [2, 1])
        // Old is v1: a rollback is the usual swap.
        #expect(try t.codeServer.rollback("todos").to == 1)
        _ = try t.codeServer.purge("todos")
        #expect(t.versions("todos") == [1, nil])
        // No old left: back to the built-in version, which is not entered again.
        let back = try t.codeServer.rollback("todos")
        #expect(back.from == 1 && back.to == 0)
        #expect(t.versions("todos") == [0, 1])
        #expect(try t.calledVersion("todos") == 0)
        #expect(t.loader.entered.filter { $0 == "builtin:todos" }.count == 1)
        #expect(try t.node.makePermanent(["todos"]) == ["todos": 0])
        #expect(t.node.permanentVersions() == ["todos": 0])
    }

    @Test("rollback of a module with neither an old nor a built-in version is refused as before")
    func rollbackWithoutBuiltIn() throws {
        let t = try TestNode(mode: .embedded)
        defer { t.close() }
        _ = try t.codeServer.load([t.loader.add("calc", 1)])
        #expect(throws: LoadError.noFile("calc has no old version to roll back to")) { try t.codeServer.rollback("calc") }
    }
}

/// The messages logged through `handler`s made from it, for a test that reads what was said.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func handler() -> some LogHandler { Handler(owner: self) }

    private struct Handler: LogHandler {
        let owner: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            owner.lines.withLock { $0.append(event.message.description) }
        }
    }
}
