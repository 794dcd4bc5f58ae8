#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import HotWire
import Testing

@testable import HotNode

/// The compaction threshold a node is told: hotnode's flags, or hot.json's `compact`.
@Suite("Compaction threshold")
struct CompactionThresholdTests {
    private let required = ["--name", "n1", "--listen", "unix:/tmp/n1.sock", "--cookie-file", "/c", "--state", "/s"]

    @Test("--compact-after-loads and --compact-after-bytes set the threshold, and its flags say the same again")
    func flags() throws {
        #expect(try NodeConfiguration(arguments: required).compaction == CompactionThreshold(), "no flag: never")
        let both = try NodeConfiguration(arguments: required + ["--compact-after-loads", "500", "--compact-after-bytes", "64000000"])
        #expect(both.compaction == CompactionThreshold(loads: 500, retainedBytes: 64_000_000))
        let rendered = NodeFlags(name: "n1", listen: [.unix(path: "/tmp/n1.sock")], cookieFile: "/c", state: "/s", compaction: both.compaction)
        #expect(try NodeConfiguration(arguments: rendered.arguments).compaction == both.compaction)
        let loads = NodeFlags(name: "n1", listen: [.unix(path: "/tmp/n1.sock")], cookieFile: "/c", state: "/s", compaction: CompactionThreshold(loads: 7))
        #expect(loads.arguments.suffix(2) == ["--compact-after-loads", "7"])
        #expect(try NodeConfiguration(arguments: loads.arguments).compaction == loads.compaction)
    }

    @Test("a threshold that is not a whole number above 0 is refused, naming the flag and the value", arguments: [
        ("--compact-after-loads", "0"), ("--compact-after-loads", "-5"), ("--compact-after-bytes", "lots"),
        ("--compact-after-bytes", "1.5"), ("--compact-after-loads", ""),
    ])
    func badValue(option: String, value: String) {
        #expect(throws: NodeConfiguration.ArgumentError.badValue(option: option, value: value, expected: "a whole number above 0")) {
            try NodeConfiguration(arguments: required + [option, value])
        }
        #expect(throws: NodeConfiguration.ArgumentError.missingValue(option: option)) {
            try NodeConfiguration(arguments: required + [option])
        }
    }

    @Test("a project's node reads hot.json's compact")
    func project() throws {
        var template = Array("/tmp/hot-compact-config-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        let folder = String(cString: made)
        defer { removeTree(folder) }
        try makeDirectories(folder + "/modules/cart")
        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop", "compact": {"afterRetainedBytes": 1000}}"#.utf8))
        #expect(try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server").compaction == CompactionThreshold(retainedBytes: 1000))
        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop"}"#.utf8))
        #expect(try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server").compaction == CompactionThreshold())
    }
}
