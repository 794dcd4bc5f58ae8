import Foundation
import Testing

/// `hot build`'s checks (docs/ARCHITECTURE.md, "Build checks") on the module
/// of issue 16, a global counter, an atomic and a detached task started by
/// its on-load hook, built with the real hot and swiftc.
@Suite("Build checks", .serialized)
struct BuildCheckTests {
    static let module = """
        import Hot
        import Synchronization
        nonisolated(unsafe) var hits = 0
        let ticks = Atomic<Int>(0)
        let module = HotModule(
            exports: [.function("hit", { () -> Int in hits += 1; return hits })],
            onLoad: { Task.detached { while true { ticks.add(1, ordering: .relaxed); try? await Task.sleep(for: .milliseconds(10)) } } })

        """
    static let source = "app/modules/hello/hello.swift"

    /// A project whose hello module is the issue's.
    private func project() throws -> Scratch {
        let scratch = try Scratch()
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try scratch.write(Self.source, Self.module)
        return scratch
    }

    /// The `[hot]` lines of stderr.
    private func findings(_ outcome: Outcome) -> [String] {
        outcome.stderr.split(separator: "\n").map(String.init).filter { $0.contains(": [hot] ") }
    }

    private func artifacts(_ scratch: Scratch) -> [String] {
        let folder = scratch.path("app/.hot/build/hello")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
    }

    @Test("hot build warns at each line with the fix, in the compiler's format, and still builds; a no-op build parses nothing")
    func warns() throws {
        let scratch = try project()
        defer { scratch.close() }
        let built = try scratch.hot(["build"])
        #expect(built.status == 0 && built.stdout.contains("built hello v1"), "\(built)")
        let path = scratch.path(Self.source)
        let lines = findings(built)
        #expect(lines.count == 3, "\(built)")
        #expect(lines.first?.hasPrefix("\(path):3:1: warning: [hot] top-level var 'hits' is module-level mutable state; ") == true)
        #expect(lines.dropFirst().first?.hasPrefix("\(path):4:1: warning: [hot] top-level let 'ticks' keeps mutable state in Atomic; ") == true)
        #expect(lines.last?.hasPrefix("\(path):7:15: warning: [hot] `Task.detached` starts work that Hot does not track; ") == true)
        #expect(lines.first?.contains("the node's kept state (docs/RELOADING.md)") == true)
        #expect(lines.last?.contains("Hot's tracked tasks (docs/RELOADING.md)") == true)
        #expect(artifacts(scratch).count == 1)

        let noop = try scratch.hot(["build", "--json"])
        #expect(noop.status == 0 && findings(noop).isEmpty, "\(noop)")
        let quiet = try #require(try parseJSON(noop.stdout) as? [String: Any])
        #expect((quiet["checks"] as? [String: Any])?["files"] as? Int == 0, "a no-op build parses nothing: \(noop.stdout)")
        #expect((quiet["warnings"] as? [Any])?.isEmpty == true)

        try scratch.write(Self.source, Self.module + "// edited\n")
        let json = try scratch.hot(["build", "--json"])
        #expect(json.status == 0, "\(json)")
        let report = try #require(try parseJSON(json.stdout) as? [String: Any])
        let warnings = try #require(report["warnings"] as? [[String: Any]])
        #expect(warnings.map { $0["kind"] as? String } == ["globalVar", "synchronizedState", "detachedTask"])
        #expect(warnings.map { $0["line"] as? Int } == [3, 4, 7])
        #expect(warnings.map { $0["column"] as? Int } == [1, 1, 15])
        #expect(warnings.allSatisfy { $0["file"] as? String == "modules/hello/hello.swift" })
        #expect(warnings.allSatisfy { ($0["message"] as? String)?.isEmpty == false && ($0["fix"] as? String)?.isEmpty == false })
        let checks = try #require(report["checks"] as? [String: Any])
        #expect(checks["files"] as? Int == 1 && (checks["seconds"] as? Double ?? -1) >= 0, "\(checks)")
        #expect(findings(json).count == 3, "on stderr too, for editors: \(json)")
    }

    @Test("hot build --strict fails with one line per finding and a summary, writes nothing, and deploys nothing")
    func strict() throws {
        let scratch = try project()
        defer { scratch.close() }
        let failed = try scratch.hot(["build", "--strict"])
        #expect(failed.status == 1, "\(failed)")
        let lines = failed.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(failed)")
        #expect(lines.prefix(3).allSatisfy { $0.hasPrefix(scratch.path(Self.source)) && $0.contains(": error: [hot] ") }, "\(lines)")
        let summary = lines.last ?? ""
        #expect(summary.hasPrefix("hot: build failed: hello not compiled: 3 build check findings"), "\(summary)")
        #expect(summary.hasSuffix("nothing was deployed"))
        #expect(artifacts(scratch).isEmpty, "no object for a refused module")
        let manifest = (try? scratch.read("app/.hot/manifest.json")) ?? ""
        #expect(!manifest.contains("\"hello\""), "nothing recorded: \(manifest)")

        let deploy = try scratch.hot(["deploy", "--strict"])
        #expect(deploy.status == 1 && findings(deploy).count == 3 && deploy.stderr.contains("nothing was deployed"), "\(deploy)")

        // Built once as warnings, the module is found built: a strict build
        // checks it all the same, so a kept .hot/ hides nothing.
        try #require(try scratch.hot(["build"]).status == 0)
        let cached = try scratch.hot(["build", "--strict", "--json"])
        #expect(cached.status == 1 && findings(cached).count == 3, "\(cached)")
        #expect(artifacts(scratch).count == 1)

        // hot.json's "strict" says the same for every build.
        let config = try scratch.read("app/hot.json")
        try scratch.write("app/hot.json", config.replacingOccurrences(of: "\"name\"", with: "\"checks\": {\"strict\": true},\n  \"name\""))
        try scratch.write(Self.source, Self.module + "// edited\n")
        let configured = try scratch.hot(["build"])
        #expect(configured.status == 1 && findings(configured).allSatisfy { $0.contains(": error: ") }, "\(configured)")
        #expect(artifacts(scratch).count == 1)
    }

    @Test("`// hot: allow` on the line and hot.json's allow list silence their sites; a strict build then passes")
    func silenced() throws {
        let scratch = try project()
        defer { scratch.close() }
        let marked = Self.module
            .replacingOccurrences(of: "var hits = 0", with: "var hits = 0 // hot: allow counted per version on purpose")
            .replacingOccurrences(of: "10)) } } })", with: "10)) } } }) // hot: allow")
        try scratch.write(Self.source, marked)
        let partly = try scratch.hot(["build", "--strict"])
        #expect(partly.status == 1 && findings(partly).count == 1 && partly.stderr.contains("'ticks'"), "\(partly)")

        let config = try scratch.read("app/hot.json")
        try scratch.write(
            "app/hot.json", config.replacingOccurrences(of: "\"name\"", with: "\"checks\": {\"allow\": [\"hello/hello.swift:ticks\"]},\n  \"name\""))
        let clean = try scratch.hot(["build", "--strict"])
        #expect(clean.status == 0 && findings(clean).isEmpty && clean.stdout.contains("built hello v1"), "\(clean)")
        #expect(artifacts(scratch).count == 1)

        // A malformed entry is refused in one line that names it.
        try scratch.write(
            "app/hot.json", config.replacingOccurrences(of: "\"name\"", with: "\"checks\": {\"allow\": [\"hello/hello.swift:\"]},\n  \"name\""))
        let refused = try scratch.hot(["build"])
        #expect(refused.status == 1 && refused.stderr.contains("\"checks.allow\" entry \"hello/hello.swift:\""), "\(refused)")
    }

    @Test("an include folder's site is checked once per build, said once, and under --strict fails every module it is compiled into")
    func includeFolder() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        let config = try scratch.read("app/hot.json")
        try scratch.write("app/hot.json", config.replacingOccurrences(of: #""include": []"#, with: #""include": ["shared"]"#))
        try FileManager.default.createDirectory(atPath: scratch.path("app/shared"), withIntermediateDirectories: true)
        try scratch.write("app/shared/log.swift", "nonisolated(unsafe) var level = 0\n")
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/other"), withIntermediateDirectories: true)
        try scratch.write("app/modules/other/other.swift", "import Hot\nlet module = HotModule(exports: [])\n")

        let built = try scratch.hot(["build", "--json"])
        #expect(built.status == 0, "\(built)")
        #expect(findings(built) == ["\(scratch.path("app/shared/log.swift")):1:1: warning: [hot] top-level var 'level' is module-level mutable state; "
            + "such state belongs to this version and starts fresh in the next one; keep it in a server's state (crosses by codeChange) "
            + "or in a `Kept` value, the node's kept state (docs/RELOADING.md), or mark the site `// hot: allow`"], "\(built)")
        let report = try #require(try parseJSON(built.stdout) as? [String: Any])
        #expect((report["checks"] as? [String: Any])?["files"] as? Int == 3, "two modules' files and the include file, once")
        #expect((report["warnings"] as? [[String: Any]])?.map { $0["file"] as? String } == ["shared/log.swift"])

        try scratch.write("app/shared/log.swift", "nonisolated(unsafe) var level = 1\n")
        let strict = try scratch.hot(["build", "--strict"])
        #expect(strict.status == 1 && findings(strict).count == 1, "\(strict)")
        #expect(strict.stderr.contains("build failed: hello, other not compiled: 1 build check finding,"), "\(strict)")

        try scratch.write(
            "app/hot.json",
            config.replacingOccurrences(of: #""include": []"#, with: #""include": ["shared"], "checks": {"allow": ["shared/log.swift:level"]}"#))
        #expect(try scratch.hot(["build", "--strict"]).status == 0)
    }

    @Test("the parser stays in hot: hotnode, which every module loads into, links none of swift-syntax")
    func nodeLinksNoParser() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        for (binary, expected) in [("hotnode", false), ("hot", true)] {
            let symbols = try scratch.run("/usr/bin/env", ["nm", "--defined-only", Binaries.directory + "/" + binary], in: scratch.root)
            try #require(symbols.status == 0, "\(symbols.stderr)")
            #expect(symbols.stdout.contains("11SwiftSyntax") == expected, "\(binary)")
        }
    }
}
