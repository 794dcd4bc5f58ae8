import Hot
import Testing

@testable import HotNode

private final class Object: Sendable {
    let value: Int
    init(_ value: Int) { self.value = value }
}

/// `Published` keeps the invariant every unretained read of the export table
/// relies on; these tests break it if it ever stops.
@Suite("Published")
struct PublishedTests {
    @Test("an object once published outlives every other reference, even once replaced")
    func publishedObjectsLiveOn() {
        let cell = Published<Object>()
        weak var first: Object?
        weak var second: Object?
        do {
            let a = Object(1)
            let b = Object(2)
            first = a
            second = b
            cell.publish(a)
            cell.publish(b)
            cell.publish(nil)
        }
        #expect(first?.value == 1 && second?.value == 2)
        #expect(cell.object == nil && cell.address == 0)
    }

    @Test("readers borrow what is published now, and its address names it")
    func readersSeeTheCurrentObject() {
        let one = Object(1)
        let cell = Published(one)
        #expect(cell.withObject { $0.value } == 1)
        #expect(cell.address == Published.address(of: one))
        let two = Object(2)
        cell.publish(two)
        #expect(cell.withObject { $0.value } == 2)
        #expect(cell.address == Published.address(of: two) && cell.address != Published.address(of: one))
    }

    @Test("a typed handle reaches each new current version, and fails once the module is deleted")
    func typedHandleFollowsLoads() throws {
        let t = try TestNode()
        defer { t.close() }
        let double = t.codeServer.exports.function("calc", "times", ((Int) throws -> Int).self)
        #expect(throws: CallError.undefinedModule("calc")) { try double(2) }
        for version in 1...3 {
            let times = Export.function("times") { (x: Int) -> Int in x * version }
            let key = FakeLoader.key(Character(String(version)))
            _ = try t.codeServer.load([t.loader.add("calc", version, key: key, extra: [times])])
            #expect(try double(5) == 5 * version)
            #expect(try double(7) == 7 * version, "the cached resolution serves the same version")
        }
        _ = try t.codeServer.rollback("calc")
        #expect(try double(5) == 10)
        _ = try t.codeServer.delete("calc")
        #expect(throws: CallError.undefinedModule("calc")) { try double(5) }
    }
}
