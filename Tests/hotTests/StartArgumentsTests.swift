#if canImport(Glibc)
import Glibc
#endif
import HotBuild
import HotPlatform
import HotProject
import Testing

@testable import hot

/// The flags `hot start` gives hotnode, from a real hot.json.
@Suite struct StartArgumentsTests {
    private func project(_ config: String) throws -> (Project, String) {
        var template = Array("/tmp/hot-start-args.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        let root = String(cString: made)
        try writeFileAtomically(root + "/hot.json", Array(config.utf8))
        return (try Project.load(root: root), root)
    }

    @Test func compactThresholdGoesToHotnodeBesideTheStickyModules() throws {
        let (shop, root) = try project(#"{"name": "shop", "sticky": ["db"], "compact": {"afterLoads": 500, "afterRetainedBytes": 64000000}}"#)
        defer { removeTree(root) }
        let arguments = NodeFlags(project: shop.layout, config: shop.config).arguments
        #expect(arguments.suffix(4) == ["--compact-after-loads", "500", "--compact-after-bytes", "64000000"])
        let sticky = try #require(arguments.firstIndex(of: "--sticky"))
        #expect(arguments[sticky + 1] == "db")
        #expect(arguments.prefix(4) == ["--name", "shop", "--listen", "unix:\(shop.socketPath)"])
    }

    @Test func noThresholdNoFlags() throws {
        let (plain, root) = try project(#"{"name": "plain", "compact": {"afterLoads": 20}}"#)
        defer { removeTree(root) }
        let loadsOnly = NodeFlags(project: plain.layout, config: plain.config, node: "n2", mode: .embedded).arguments
        #expect(loadsOnly.filter { $0.hasPrefix("--compact") } == ["--compact-after-loads"])
        try writeFileAtomically(root + "/hot.json", Array(#"{"name": "plain"}"#.utf8))
        let never = try Project.load(root: root)
        #expect(!NodeFlags(project: never.layout, config: never.config).arguments.contains { $0.hasPrefix("--compact") })
    }
}
