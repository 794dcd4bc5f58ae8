import Testing

@testable import HotNode

private final class Box: Sendable {
    let value: Int
    init(_ value: Int) { self.value = value }
}

/// Names of every length the hash reads differently (0, 1-3, 4-7, 8-16 and
/// past 16 bytes), ASCII and not, and names that differ only in their last or
/// first byte, where a hash that skipped a byte would collide.
private let names: [String] = {
    var names = ["", "a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghijklmnop", "abcdefghijklmnopq"]
    names += (0..<40).map { String(repeating: "x", count: $0) + "y" }
    names += (1..<40).map { "y" + String(repeating: "x", count: $0) }
    names += ["héllo", "hello", "模块", "call", "calls", "inc", "echo", "spin", "version"]
    return names
}()

@Test func everyNameFindsItsOwnValue() {
    let table = NameTable(names.enumerated().map { ($1, Box($0)) })
    #expect(table.count == names.count)
    for (index, name) in names.enumerated() {
        #expect(table[name]?.value == index, "\(name)")
        #expect(table.lookup(name)?.takeUnretainedValue().value == index, "\(name)")
    }
}

@Test func missingNamesAreNotFound() {
    let table = NameTable(names.map { ($0, Box(0)) })
    for missing in ["abce", "calls2", "xy ", "x", String(repeating: "x", count: 41), "HELLO", "incx"] {
        #expect(table[missing] == nil, "\(missing)")
    }
    #expect(NameTable<Box>([])["anything"] == nil)
    #expect(NameTable<Box>([])[""] == nil)
}

@Test func theFirstOfTwoEqualNamesIsKept() {
    let table = NameTable([("inc", Box(1)), ("dec", Box(2)), ("inc", Box(3))])
    #expect(table.count == 2)
    #expect(table["inc"]?.value == 1)
    #expect(table.keys == ["inc", "dec"])
    #expect(table.pairs.map { $0.1.value } == [1, 2])
}

@Test func aLargeTableKeepsEveryName() {
    let many = (0..<5000).map { "module_\($0)" }
    let table = NameTable(many.enumerated().map { ($1, Box($0)) })
    for (index, name) in many.enumerated() { #expect(table[name]?.value == index) }
    #expect(table["module_5000"] == nil)
}

@Test func aNameFromAnotherStorageFindsTheSameEntry() {
    // The same bytes in a heap string and in a
    // substring's copy must hash alike.
    let long = String(repeating: "m", count: 30)
    let table = NameTable([(long, Box(7)), ("calls", Box(8))])
    let built = String("xx" + long + "yy").dropFirst(2).dropLast(2)
    #expect(table[String(built)]?.value == 7)
    let fromBytes = String(decoding: Array("calls".utf8), as: UTF8.self)
    #expect(table[fromBytes]?.value == 8)
}
