import Hot
import Testing

/// Which overload an export's closure picks: sync closures stay on the sync
/// exports (and their fast paths), async ones become async exports.
@Suite("Async exports")
struct AsyncExportTests {
    struct Opaque: Sendable { let value: Int }

    private static func inc(_ x: Int) -> Int { x + 1 }

    @Test("sync closures and function references pick the sync overloads")
    func syncStaysSync() throws {
        let exports: [Export] = [
            .function("none") { () -> Int in 1 },
            .function("one") { (a: Int) -> Int in a },
            .function("two") { (a: Int, b: String) -> String in "\(a)\(b)" },
            .function("three") { (a: Int, b: Int, c: Int) throws -> Int in a + b + c },
            .function("ref", Self.inc),
        ]
        for export in exports {
            #expect(!export.isAsync, "\(export.name)")
            #expect(export.asyncBody == nil)
        }
        #expect(exports[1].unary != nil)
        #expect(try exports[4].body([.int(1)]) == .int(2))
    }

    @Test("async closures make async exports; Codable ones carry a body over terms")
    func asyncExports() async throws {
        let hello = Export.function("hello") { (name: String) async throws -> String in "hi \(name)" }
        #expect(hello.isAsync && hello.arity == 1)
        #expect(try await hello.asyncBody?([.string("x")]) == .string("hi x"))
        #expect(throws: CallError.self) { try hello.body([.string("x")]) }
        let pair = Export.function("pair") { (a: Int, b: [Int]) async throws -> [Int] in b + [a] }
        #expect(try await pair.asyncBody?([.int(1), .list([.int(0)])]) == .list([.int(0), .int(1)]))
        let none = Export.function("none") { () async -> Int in 7 }
        #expect(try await none.asyncBody?([]) == .int(7))

        let opaque = Export.function("opaque") { (o: Opaque, n: Int) async throws -> Opaque in Opaque(value: o.value + n) }
        #expect(opaque.isAsync && opaque.arity == 2 && opaque.asyncBody == nil)
        #expect(opaque.typed is @Sendable (Opaque, Int) async throws -> Opaque)
        do {
            _ = try opaque.body([.int(1), .int(2)])
            Issue.record("a non-Codable async export ran over terms")
        } catch let error as CallError {
            guard case .notCallable(_, let reason) = error else { throw error }
            #expect(reason.contains("typed handle"))
        }
    }
}
