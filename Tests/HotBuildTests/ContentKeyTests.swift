import Testing
@testable import HotBuild

/// What a module's content key depends on: everything that changes the object, and nothing else.
@Suite("ContentKey")
struct ContentKeyTests {
    static let files = [(path: "modules/a/a.swift", id: "ce013625030ba8dba906f756967f9e9ca394464a")]
    static let includes = [(path: "shared/s.swift", id: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")]

    static func key(files: [(path: String, id: String)] = files, includes: [(path: String, id: String)] = includes,
                    flags: [String] = ["-D", "A B"], compiler: String = "6.3.1", sdk: String = "sdk-1", abi: Int = 1) -> String {
        ContentKey(files: files, includes: includes, flags: flags, compiler: compiler, sdk: sdk, abi: abi).hex
    }

    @Test("the key's text is stable: a new format rebuilds every module of every project")
    func golden() {
        #expect(Self.key() == "eee6e2b60bcc093ab400a8396674d220c2d98aced7b8bcb591821e04b95f3f3f")
    }

    @Test("the same inputs make the same key")
    func deterministic() {
        #expect(Self.key() == Self.key())
        #expect(Self.key().count == 64)
    }

    @Test("each input changes the key")
    func everyInputCounts() {
        let base = Self.key()
        let variants = [
            Self.key(files: [(path: "modules/a/a.swift", id: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")]),
            Self.key(files: [(path: "modules/a/b.swift", id: Self.files[0].id)]),
            Self.key(files: Self.files + [(path: "modules/a/more.swift", id: Self.files[0].id)]),
            Self.key(includes: []),
            Self.key(includes: [(path: "shared/s.swift", id: Self.files[0].id)]),
            Self.key(flags: ["-D", "A"]),
            Self.key(flags: ["-D", "A B", "-O"]),
            Self.key(compiler: "6.3.2"),
            Self.key(sdk: "sdk-2"),
            Self.key(abi: 2),
        ]
        for (index, variant) in variants.enumerated() { #expect(variant != base, "variant \(index)") }
        #expect(Set(variants).count == variants.count, "and no two variants collide")
    }

    @Test("flags are kept apart: [-D, A B] is not [-D A, B]")
    func flagBoundaries() {
        #expect(Self.key(flags: ["-D", "A B"]) != Self.key(flags: ["-D A", "B"]))
        #expect(Self.key(flags: ["-DA"]) != Self.key(flags: ["-D", "A"]))
    }

    @Test("a file moved from the module into an include folder is a new key")
    func fileOrInclude() {
        let file = (path: "x.swift", id: Self.files[0].id)
        #expect(Self.key(files: [file], includes: []) != Self.key(files: [], includes: [file]))
    }
}
