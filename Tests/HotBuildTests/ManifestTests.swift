import HotPlatform
import Testing
@testable import HotBuild

/// `.hot/manifest.json`: the record that numbers versions.
@Suite("Manifest")
struct ManifestTests {
    static func version(_ module: String, _ number: Int, key: String? = nil, commit: String? = "c0ffee") -> BuiltVersion {
        let key = key ?? String(repeating: String(number), count: 64)
        return BuiltVersion(
            module: module, version: number, key: key, file: "\(module).v\(number)-\(key.prefix(12)).so",
            sha256: String(repeating: "e", count: 64), commit: commit, dirty: commit == nil, compiler: "6.3.1",
            time: 1_700_000_000.5, release: number % 2 == 0, files: ["modules/\(module)/\(module).swift": "ab\(number)"],
            includes: commit == nil ? nil : [:])
    }

    @Test("save then load gives back the same manifest, every field and absent optional included")
    func roundTrip() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        var manifest = Manifest()
        manifest.versions = [Self.version("a", 1), Self.version("b", 1, commit: nil), Self.version("a", 2)]
        manifest.current = ["a": 1, "b": 1]
        let path = dir.path + "/manifest.json"
        try manifest.save(path)
        #expect(try Manifest.load(path) == manifest)
        #expect(listDirectory(dir.path) == ["manifest.json"], "no temporary file is left beside it")
    }

    @Test("a missing manifest is an empty one: versions count from 1")
    func missing() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let manifest = try Manifest.load(dir.path + "/manifest.json")
        #expect(manifest == Manifest())
        #expect(manifest.nextVersion("a") == 1)
    }

    @Test("a corrupt manifest is refused, saying which file and how to start afresh", arguments: [
        "{\"versions\": [", "not json", "{\"current\": {}}", "{\"versions\": [{\"module\": \"a\"}]}", "[]",
    ])
    func corrupt(_ text: String) throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let path = dir.path + "/manifest.json"
        try dir.write("manifest.json", text)
        let error = #expect(throws: ProjectError.self) { try Manifest.load(path) }
        guard case .badConfig(let named, let reason)? = error else {
            Issue.record("not badConfig: \(String(describing: error))")
            return
        }
        #expect(named == path)
        #expect(reason.contains("delete it to start the version count afresh"), "\(reason)")
    }

    @Test("a manifest written before `current` existed reads, each module current at its newest")
    func withoutCurrent() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        var old = Manifest()
        old.versions = [Self.version("a", 1), Self.version("a", 2)]
        try old.save(dir.path + "/m.json")
        let text = try dir.read("m.json")
        let term = try JSON.parse(text)
        guard case .map(var fields) = term else { Issue.record("not an object: \(text)"); return }
        fields["current"] = nil
        try dir.write("m.json", JSON.render(.map(fields)))
        let read = try Manifest.load(dir.path + "/m.json")
        #expect(read.current.isEmpty)
        #expect(read.currentVersion("a")?.version == 2)
    }

    @Test("the next version is one past the highest of that module, whatever the order or the other modules")
    func nextVersion() {
        var manifest = Manifest()
        #expect(manifest.nextVersion("a") == 1)
        manifest.versions = [Self.version("a", 1), Self.version("b", 5), Self.version("a", 3), Self.version("a", 2)]
        #expect(manifest.nextVersion("a") == 4)
        #expect(manifest.nextVersion("b") == 6)
        #expect(manifest.nextVersion("c") == 1)
        #expect(manifest.newest("a")?.version == 3)
    }

    @Test("a key built before is found again; the current build is what `current` names, not the newest")
    func lookups() {
        var manifest = Manifest()
        let one = Self.version("a", 1, key: String(repeating: "1", count: 64))
        let two = Self.version("a", 2, key: String(repeating: "2", count: 64))
        manifest.versions = [one, two, Self.version("b", 1, key: one.key)]
        #expect(manifest.version("a", key: one.key) == one)
        #expect(manifest.version("a", key: String(repeating: "9", count: 64)) == nil)
        #expect(manifest.version("b", key: two.key) == nil, "a key is per module")
        #expect(manifest.currentVersion("a") == two, "no current: the newest")
        manifest.current["a"] = 1
        #expect(manifest.currentVersion("a") == one)
        #expect(manifest.currentVersion("c") == nil)
    }
}
