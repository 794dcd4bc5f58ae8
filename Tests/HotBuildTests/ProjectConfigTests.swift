import HotPlatform
import HotWire
import Testing
@testable import HotBuild

/// `hot.json`, read from real files.
@Suite("Project configuration")
struct ProjectConfigTests {
    /// The reason `hot.json` holding `text` is refused with, or nil when it reads.
    private func refusal(_ text: String) throws -> String? {
        let dir = try Scratch()
        defer { dir.removeAll() }
        try dir.write("hot.json", text)
        do {
            _ = try Project.load(root: dir.path)
            return nil
        } catch {
            guard case .badConfig(let path, let reason) = error else {
                Issue.record("not badConfig: \(error)")
                return nil
            }
            #expect(path == dir.path + "/hot.json")
            #expect(!error.description.contains("\n"), "one line: \(error.description)")
            return reason
        }
    }

    @Test("compact's thresholds read as given, and either may be left out")
    func compactReads() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        try dir.write("hot.json", #"{"name": "shop", "compact": {"afterLoads": 500, "afterRetainedBytes": 67108864}}"#)
        #expect(try Project.load(root: dir.path).config.compact == CompactionThreshold(loads: 500, retainedBytes: 67_108_864))
        try dir.write("hot.json", #"{"name": "shop", "compact": {"afterLoads": 1}}"#)
        #expect(try Project.load(root: dir.path).config.compact == CompactionThreshold(loads: 1))
        try dir.write("hot.json", #"{"name": "shop"}"#)
        #expect(try Project.load(root: dir.path).config.compact == nil, "no compact: the node never compacts by itself")
    }

    @Test("a compact threshold that is not a whole number above 0 is refused, naming the field", arguments: [
        (#"{"afterLoads": 0}"#, "compact.afterLoads"),
        (#"{"afterLoads": -3}"#, "compact.afterLoads"),
        (#"{"afterRetainedBytes": 0}"#, "compact.afterRetainedBytes"),
        (#"{"afterLoads": 10, "afterRetainedBytes": -1}"#, "compact.afterRetainedBytes"),
        (#"{"afterLoads": "many"}"#, "afterLoads"),
        (#"{"afterRetainedBytes": 1.5}"#, "afterRetainedBytes"),
    ])
    func compactRefused(compact: String, field: String) throws {
        let reason = try refusal(#"{"name": "shop", "compact": \#(compact)}"#)
        let named = try #require(reason, "\(compact) was accepted")
        #expect(named.contains(field), "\(named)")
    }

    @Test("a field compact does not take (a misspelt threshold would never trigger) is refused, naming it")
    func compactUnknownField() throws {
        let reason = try #require(try refusal(#"{"name": "shop", "compact": {"afterLoad": 100}}"#))
        #expect(reason.contains("\"afterLoad\""), "\(reason)")
        #expect(reason.contains("afterLoads") && reason.contains("afterRetainedBytes"), "says what it takes: \(reason)")
        #expect(try refusal(#"{"name": "shop", "compact": 100}"#) != nil, "compact is an object")
    }
}
