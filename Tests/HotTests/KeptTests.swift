import Synchronization
import Testing

@testable import Hot

/// `Kept` and `CallSite` over a runtime that keeps terms and nothing else:
/// how a value crosses from one version's type to the next, with the node's
/// part (docs/ARCHITECTURE.md, "Kept state") tested in HotNodeTests and end
/// to end.
@Suite("Kept state and call sites")
struct KeptTests {
    /// A node that only keeps terms. Never installed: the tests of every
    /// target share one process, and a node made by another would replace it.
    final class KeepingRuntime: NodeRuntime {
        let terms = Mutex<[String: Term]>([:])

        func withKept<R>(_ module: String, _ key: String, _ body: (inout Term?) throws -> R) throws -> R {
            // The tests touch each key from one thread: no lock across `body`.
            var term = terms.withLock { $0["\(module)/\(key)"] }
            let result = try body(&term)
            terms.withLock { [term] in $0["\(module)/\(key)"] = term }
            return result
        }

        func call(_ module: String, _ function: String, _ args: [Term]) throws -> Term { throw ProcessError.noNode }
        func spawn(_ module: String, _ function: String, _ args: [Term], name: String?) throws -> Pid { throw ProcessError.noNode }
        func startServer(_ module: String, _ server: String, _ args: [Term], name: String?) throws -> Pid { throw ProcessError.noNode }
        func send(_ message: Term, to pid: Pid) -> Bool { false }
        func whereis(_ name: String) -> Pid? { nil }
        func selfPid() -> Pid? { nil }
        func receive(timeout: Duration?) throws -> Term? { nil }
        func checkCancellation() throws {}
        func serverCall(_ pid: Pid, _ request: Term, timeout: Duration) throws -> Term { throw ProcessError.noNode }
        func serverCast(_ pid: Pid, _ message: Term) -> Bool { false }
        func startTask(
            _ label: String, lifetime: TaskLifetime, site: CallSite, _ body: @escaping @Sendable () async throws -> Void
        ) throws -> UInt64 { 0 }
        func cancelTask(_ id: UInt64) {}
    }

    @Test("a call site names the hot module and version its file was compiled into")
    func callSites() {
        let site = CallSite(fileID: "ticker_v12/ticker.swift", line: 7)
        #expect(site.module == "ticker" && site.version == 12 && site.file == "ticker.swift" && "\(site)" == "ticker.swift:7")
        let nested = CallSite(fileID: "my_v2_mod_v3/a.swift", line: 1)
        #expect(nested.module == "my_v2_mod" && nested.version == 3)
        // What hot build names each version's Swift module reads back.
        let built = CallSite(fileID: ModuleDescriptor.swiftModuleName("my_v2_mod", version: 40) + "/a.swift", line: 1)
        #expect(built.module == "my_v2_mod" && built.version == 40)
        for outside in ["App/main.swift", "_v3/a.swift", "app_v/a.swift", "app_v0/a.swift", "v3/a.swift"] {
            #expect(CallSite(fileID: outside, line: 1).version == nil, "\(outside)")
        }
        #expect(CallSite(fileID: "App/main.swift", line: 1).module == "App")
    }

    @Test("every version of a module reaches the same value, by the module in its file id")
    func sharedAcrossVersions() throws {
        let node = KeepingRuntime()
        let v1 = Kept("hits", default: 0, fileID: "shared_v1/shared.swift")
        let v2 = Kept("hits", default: 0, fileID: "shared_v2/shared.swift")
        #expect(v1.module == "shared")
        #expect(try v1.withValue(on: node) { hits in
            hits += 2
            return hits
        } == 2)
        #expect(try v2.withValue(on: node) { $0 } == 2)
        try v2.withValue(on: node) { $0 = 5 }
        #expect(try v1.withValue(on: node) { $0 } == 5)
        try v1.reset(on: node)
        #expect(try v2.withValue(on: node) { $0 } == 0, "after a reset, the default")
    }

    struct Before: Codable, Sendable { var count: Int }
    struct After: Codable, Sendable { var count: Int; var label: String }

    @Test("a value of another shape goes through migrate; without one it throws and stays as it was")
    func shapes() throws {
        let node = KeepingRuntime()
        let v1 = Kept("stats", default: Before(count: 0), fileID: "shapes_v1/shapes.swift")
        try v1.withValue(on: node) { $0 = Before(count: 3) }
        let strict = Kept("stats", default: After(count: 0, label: "new"), fileID: "shapes_v2/shapes.swift")
        #expect(throws: KeptError.self) { try strict.withValue(on: node) { $0 } }
        #expect(try v1.withValue(on: node) { $0.count } == 3, "an undecodable value is left for a later version")
        let migrating = Kept(
            "stats", default: After(count: 0, label: "new"),
            migrate: { term in After(count: term["count"]?.intValue ?? 0, label: "migrated") },
            fileID: "shapes_v3/shapes.swift")
        let moved = try migrating.withValue(on: node) { value in
            value.count += 1
            return value
        }
        #expect(moved.count == 4 && moved.label == "migrated")
        #expect(try strict.withValue(on: node) { $0.label } == "migrated", "what the migration left is stored in the new shape")
        // migrate is asked only when the value does not decode as it is.
        let older = Kept(
            "stats", default: Before(count: 0), migrate: { _ in throw KeptError.undecodable(module: "x", key: "y", reason: "asked") },
            fileID: "shapes_v4/shapes.swift")
        #expect(try older.withValue(on: node) { $0.count } == 4, "After decodes as Before: its extra key is ignored")
    }
}
