import Hot
import Logging
import Synchronization
import Testing

@testable import HotNode

/// The typed-handle rule of a load (docs/ARCHITECTURE.md, "Typed handles"):
/// a version that lacks an export a live handle calls, or has it with
/// another type, is refused and the node keeps its version. Each rule runs
/// twice: refused by the trial's export types (what a deploy's stage sees),
/// and by the load's own check when no trial told them.
@Suite("Code server: typed handles refuse unfit loads")
struct TypedLoadTests {
    struct Repository: Sendable { let prefix: String }
    struct OtherRepository: Sendable {}

    /// Loads `web` v`version` with `exports`.
    static func load(_ t: TestNode, _ version: Int, _ exports: [Export]) throws {
        let key = FakeLoader.key(Character(String(version % 10)))
        _ = try t.codeServer.load([t.loader.add("web", version, key: key, extra: exports)])
    }

    static func get(_ version: Int) -> Export {
        .function("get") { (id: Int) async throws -> String in "v\(version) \(id)" }
    }

    @Test("a version without an export a live handle calls is refused; the node keeps its version", arguments: [true, false])
    func missingExport(trialTellsTypes: Bool) async throws {
        let t = try TestNode()
        defer { t.close() }
        t.loader.trialTellsTypes.store(trialTellsTypes, ordering: .relaxed)
        try Self.load(t, 1, [Self.get(1)])
        let get = t.node.function("web", "get", ((Int) async throws -> String).self)
        #expect(try await get(7) == "v1 7")

        let refusal = LoadError.exportType(
            module: "web", version: 2, export: "get", host: "(Int) async throws -> String", found: nil, keeps: 1)
        let hooked = Atomic<Bool>(false)
        let v2 = t.loader.add("web", 2, key: FakeLoader.key("2"), onLoad: { hooked.store(true, ordering: .relaxed) })
        #expect(throws: refusal) { try t.codeServer.load([v2]) }
        #expect(t.versions("web") == [1, nil], "the node keeps v1")
        #expect(try await get(7) == "v1 7")
        // Refused by the trial's types, v2's entry never ran in the node; by
        // the load's own check, it ran (it hands over the exports) but its
        // on-load hook did not.
        #expect(t.loader.entered.count == (trialTellsTypes ? 1 : 2))
        let hookRan = hooked.load(ordering: .relaxed)
        #expect(!hookRan, "v2's on-load hook never ran")
        #expect(
            refusal.description
                == "web v2: no export 'get', which the host calls as (Int) async throws -> String; the node keeps v1: export it with that type, or change the host's handle and restart the host"
        )
        #expect(refusal.code == .mismatch)
    }

    @Test("an export of the handle's name with another type is refused, naming both types", arguments: [true, false])
    func otherType(trialTellsTypes: Bool) async throws {
        let t = try TestNode()
        defer { t.close() }
        t.loader.trialTellsTypes.store(trialTellsTypes, ordering: .relaxed)
        try Self.load(t, 1, [Self.get(1)])
        let get = t.node.function("web", "get", ((Int) async throws -> String).self)
        let wrong = Export.function("get") { (id: Int) async throws -> String? in nil }
        let refusal = LoadError.exportType(
            module: "web", version: 2, export: "get", host: "(Int) async throws -> String",
            found: "(Int) async throws -> Optional<String>", keeps: 1)
        #expect(throws: refusal) { try Self.load(t, 2, [wrong]) }
        #expect(refusal.description.hasPrefix(
            "web v2: export 'get' is (Int) async throws -> Optional<String>, the host calls it as (Int) async throws -> String; the node keeps v1"))
        #expect(t.versions("web") == [1, nil])
        #expect(try await get(1) == "v1 1")
    }

    @Test("a deploy's check (its stage) refuses what the load would, with the same text")
    func checkRefuses() throws {
        let t = try TestNode()
        defer { t.close() }
        try Self.load(t, 1, [Self.get(1)])
        let get = t.node.function("web", "get", ((Int) async throws -> String).self)
        let v2 = t.loader.add("web", 2, key: FakeLoader.key("2"), extra: [])
        #expect(throws: LoadError.exportType(
            module: "web", version: 2, export: "get", host: "(Int) async throws -> String", found: nil, keeps: 1)) {
            try t.codeServer.check([v2])
        }
        withExtendedLifetime(get) {}
    }

    @Test("a handle no longer alive, or on another module, blocks nothing")
    func deadHandle() async throws {
        let t = try TestNode()
        defer { t.close() }
        try Self.load(t, 1, [Self.get(1)])
        do {
            let get = t.node.function("web", "get", ((Int) async throws -> String).self)
            #expect(try await get(1) == "v1 1")
        }
        let elsewhere = t.node.function("other", "get", ((Int) async throws -> String).self)
        try Self.load(t, 2, [])
        #expect(t.versions("web") == [2, 1])
        withExtendedLifetime(elsewhere) {}
    }

    @Test("a module with no current version takes a version that does not fit a handle: refusing would keep nothing")
    func nothingToKeep() async throws {
        let t = try TestNode()
        defer { t.close() }
        let get = t.node.function("web", "get", ((Int) async throws -> String).self)
        let other = t.node.function("web", "other", ((Int) async throws -> String).self)
        try Self.load(t, 1, [Self.get(1)])
        #expect(try await get(2) == "v1 2", "the handle the version fits works")
        await #expect(throws: CallError.undefinedFunction(module: "web", function: "other")) { try await other(2) }
    }

    @Test("a synchronous typed handle counts too")
    func syncHandle() throws {
        let t = try TestNode()
        defer { t.close() }
        try Self.load(t, 1, [.function("square") { (n: Int) -> Int in n * n }])
        let square = t.codeServer.exports.function("web", "square", ((Int) throws -> Int).self)
        #expect(try square(3) == 9)
        #expect(throws: LoadError.exportType(
            module: "web", version: 2, export: "square", host: "(Int) throws -> Int", found: "(Int) throws -> String", keeps: 1)) {
            try Self.load(t, 2, [.function("square") { (n: Int) -> String in "\(n * n)" }])
        }
        #expect(try square(3) == 9)
    }

    @Test("the object a handle hands over is part of the type: another object's type is refused", arguments: [true, false])
    func objectType(trialTellsTypes: Bool) async throws {
        let t = try TestNode()
        defer { t.close() }
        t.loader.trialTellsTypes.store(trialTellsTypes, ordering: .relaxed)
        let list = Export.function("list") { (id: Int, repository: Repository) async throws -> String in "\(repository.prefix)\(id)" }
        try Self.load(t, 1, [list])
        let call = t.node.function("web", "list", ((Int, Repository) async throws -> String).self, with: Repository(prefix: "#"))
        #expect(try await call(4) == "#4")
        let other = Export.function("list") { (id: Int, repository: OtherRepository) async throws -> String in "\(id)" }
        do {
            try Self.load(t, 2, [other])
            Issue.record("a version taking another object's type was loaded")
        } catch {
            guard let refusal = error as? LoadError, case .exportType(_, _, "list", let host, let found, 1) = refusal else { throw error }
            #expect(host == "(Int, Repository) async throws -> String")
            #expect(found == "(Int, OtherRepository) async throws -> String")
        }
        // Same object type, new body: loads.
        try Self.load(t, 3, [.function("list") { (id: Int, repository: Repository) async throws -> String in "v3 \(id)" }])
        #expect(try await call(4) == "v3 4")
    }

    @Test("an old version made current again by a load is checked too")
    func existingVersion() throws {
        let t = try TestNode()
        defer { t.close() }
        let v1 = t.loader.add("web", 1, key: FakeLoader.key("1"), extra: [])
        _ = try t.codeServer.load([v1])
        try Self.load(t, 2, [Self.get(2)])
        let get = t.node.function("web", "get", ((Int) async throws -> String).self)
        #expect(throws: LoadError.exportType(
            module: "web", version: 1, export: "get", host: "(Int) async throws -> String", found: nil, keeps: 2)) {
            try t.codeServer.load([v1])
        }
        #expect(t.versions("web") == [2, 1])
        withExtendedLifetime(get) {}
    }

    @Test("a rollback to a version that lacks a handle's export is refused too")
    func rollback() throws {
        let t = try TestNode()
        defer { t.close() }
        _ = try t.codeServer.load([t.loader.add("web", 1, key: FakeLoader.key("1"), extra: [])])
        try Self.load(t, 2, [Self.get(2)])
        let get = t.node.function("web", "get", ((Int) async throws -> String).self)
        #expect(throws: LoadError.exportType(
            module: "web", version: 1, export: "get", host: "(Int) async throws -> String", found: nil, keeps: 2)) {
            try t.codeServer.rollback("web")
        }
        #expect(t.versions("web") == [2, 1])
        withExtendedLifetime(get) {}
    }

    @Test("a handle's failure is logged at error level, one line per interval, the next one counting the rest")
    func failureLog() {
        let lines = Lines()
        let log = CallFailureLog(handle: "web:get", logger: Logger(label: "test") { _ in lines })
        let start = ContinuousClock.now
        let error = CallError.undefinedFunction(module: "web", function: "get")
        log.report(error, at: start)
        log.report(error, at: start + .seconds(1))
        log.report(error, at: start + .seconds(2))
        log.report(error, at: start + CallFailureLog.interval + .seconds(1))
        #expect(lines.all == [
            "error a call through the handle on web:get failed: undefined: 'web' exports no function 'get'",
            "error a call through the handle on web:get failed: undefined: 'web' exports no function 'get' (and 2 more failures of this call not logged)",
        ])
    }

    @Test("a debug build's 500 carries a handle's reason, and not an export's own error")
    func debugReason() {
        struct NotFound: Error {}
        #expect(HandleFailure.reason(CallError.undefinedModule("web")) == "hot: undefined: module 'web' is not loaded")
        #expect(HandleFailure.reason(NotFound()) == nil)
    }
}

/// A log handler that keeps each line as `level message`.
private struct Lines: LogHandler {
    private let store = Store()
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var all: [String] { store.lines.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.lines.withLock { $0.append("\(event.level) \(event.message)") }
    }

    private final class Store: Sendable {
        let lines = Mutex<[String]>([])
    }
}
