import Foundation
import HotPlatform
import Testing

/// Built-in versions end to end (docs/ARCHITECTURE.md, "Built-in
/// versions"): `BuiltinHostFixture` is a target of Hot's own package that
/// links the hot module `greet` through the HotModuleEntry plugin, as a
/// host's Package.swift does, and is linked with --export-dynamic.
@Suite("Built-in versions", .serialized)
struct BuiltinVersionTests {
    /// Hot's package, which holds the fixture host.
    static let hotPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test("the dynamic symbol table of a real executable lists the symbols it defines with a prefix, not the ones it uses")
    func dynamicSymbols() throws {
        let fixture = Binaries.directory + "/BuiltinHostFixture"
        let hotnode = Binaries.directory + "/hotnode"
        #expect(try ELFNotes.dynamicSymbols(withPrefix: "hot_builtin_entry_", ofFile: fixture) == ["hot_builtin_entry_greet"])
        #expect(try ELFNotes.dynamicSymbols(withPrefix: "hot_builtin_descriptor_", ofFile: fixture) == ["hot_builtin_descriptor_greet"])
        #expect(try ELFNotes.dynamicSymbols(withPrefix: "hot_builtin_", ofFile: hotnode) == [])
        #expect(try ELFNotes.dynamicSymbols(withPrefix: "hot_sdk_exported", ofFile: hotnode) == ["hot_sdk_exported"])
        // hotnode calls dlopen and defines none: an undefined entry is not listed.
        let scratch = try Scratch()
        defer { scratch.close() }
        let undefined = try scratch.run("/usr/bin/env", ["nm", "-D", "--undefined-only", hotnode], in: "/")
        #expect(undefined.stdout.contains(" dlopen"), "\(undefined)")
        #expect(try ELFNotes.dynamicSymbols(withPrefix: "dlopen", ofFile: hotnode) == [])
        #expect(try ELFNotes.dynamicSymbols(withPrefix: "", ofFile: Self.hotPackage + "/Package.swift") == [], "not an ELF file")
    }

    @Test("a host serves its built-in module with no hot build, takes a deploy over it, rolls back to it; restarted with a build for another host build, it boots the built-in version and says which build it skipped")
    func lifecycle() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)

        // Nothing built: the node serves what the executable links.
        var host = try EmbeddedHost.start(project: app, in: scratch.root, executable: "BuiltinHostFixture")
        defer { host.end() }
        #expect(!FileManager.default.fileExists(atPath: app + "/.hot/build/greet"))
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (built in)\"\n")
        var greet = try Self.module("greet", scratch)
        #expect((greet["current"] as? [String: Any])?["version"] as? Int == 0, "\(greet)")
        #expect(greet["builtIn"] as? Bool == true, "\(greet)")
        // Its key is the key of the sources the host was built from, which hot computes alike.
        let sources = Self.hotPackage + "/Tests/Fixtures/BuiltinHost/modules/greet"
        let key = try #require(SourceKey.of(folder: sources, files: [sources + "/greet.swift"]))
        #expect((greet["current"] as? [String: Any])?["key"] as? String == key, "\(greet)")
        let text = try scratch.hot(["status"])
        #expect(text.stdout.contains("current v0 (built in)"), "\(text)")

        // A deploy loads v1 over it; a rollback returns to it.
        let deployed = try scratch.hot(["deploy"])
        try #require(deployed.status == 0, "\(deployed)")
        #expect(deployed.stdout.contains("greet v0 -> v1"), "\(deployed)")
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (v1)\"\n")
        let rolled = try scratch.hot(["rollback", "greet"])
        #expect(rolled.status == 0, "\(rolled)")
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (built in)\"\n")
        greet = try Self.module("greet", scratch)
        #expect((greet["current"] as? [String: Any])?["version"] as? Int == 0, "\(greet)")
        #expect((greet["old"] as? [String: Any])?["version"] as? Int == 1, "\(greet)")

        // hot.json now names another build of the host than the one running,
        // and the running one was not kept (docs/ARCHITECTURE.md, "Host
        // modules"): a deploy is refused in one line with the step that works.
        try scratch.write("app/hot.json", Self.config(product: "EmbeddedHostFixture"))
        try scratch.write("app/modules/greet/greet.swift", Self.greet("v2"))
        try FileManager.default.removeItem(atPath: app + "/.hot/host/builds")
        let refused = try scratch.hot(["deploy"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused)")
        #expect(refused.stderr.contains("app runs a build of the host"), "\(refused)")
        #expect(refused.stderr.contains("that hot did not keep"), "\(refused)")
        #expect(refused.stderr.contains("restart the app"), "\(refused)")

        // A build made for that other host build, made what the node boots:
        // a restart skips it, naming it, and boots the built-in version.
        let built = try scratch.hot(["build"])
        try #require(built.status == 0, "\(built)")
        let folder = app + "/.hot/build/greet/"
        let other = folder + (try FileManager.default.destinationOfSymbolicLink(atPath: folder + "current"))
        #expect(host.finish() == 0, "\(host.output)")
        try scratch.write("app/.hot/node/permanent.json", "{\"greet\": \"\(other)\"}\n")
        host = try EmbeddedHost.start(project: app, in: scratch.root, executable: "BuiltinHostFixture")
        let skipped = host.output.split(separator: "\n").filter { $0.contains("skipped greet") }
        #expect(skipped.count == 1, "\(host.output)")
        #expect(skipped.first?.contains("greet v2 (\((other as NSString).lastPathComponent))") == true, "\(host.output)")
        #expect(skipped.first?.contains("built for another build of the host") == true, "\(host.output)")
        #expect(skipped.first?.contains("booting its built-in v0 instead") == true, "\(host.output)")
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (built in)\"\n")
        #expect(host.finish() == 0, "\(host.output)")
    }

    @Test("hot watch notices a restarted host, which booted its built-in version, and loads the newest sources into it again")
    func watchAfterRestart() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try Self.project(scratch)
        var host = try EmbeddedHost.start(project: app, in: scratch.root, executable: "BuiltinHostFixture")
        defer { host.end() }
        let watch = try WatchProcess(scratch)
        defer { watch.stop() }
        try watch.expect("greet v0 -> v1")
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (v1)\"\n")

        // Rolled back to the built-in version, made permanent: what the
        // restarted host boots, behind the watch's back.
        let rolled = try scratch.hot(["rollback", "greet"])
        #expect(rolled.stdout.contains("greet v1 -> v0"), "\(rolled)")
        #expect(host.finish() == 0, "\(host.output)")
        host = try EmbeddedHost.start(project: app, in: scratch.root, executable: "BuiltinHostFixture")
        try watch.expect("node app restarted", timeout: 60)
        let deadline = Date().addingTimeInterval(60)
        while watch.count("greet v0 -> v1") < 2, Date() < deadline { usleep(50_000) }
        #expect(watch.count("greet v0 -> v1") == 2, "\(watch.output)")
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (v1)\"\n")
    }

    /// `hot init app` with one module, greet, whose sources say v1, and the
    /// fixture host as hot.json's host; nothing built. Its folder.
    static func project(_ scratch: Scratch) throws -> String {
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        let app = scratch.path("app")
        try FileManager.default.removeItem(atPath: app + "/modules/hello")
        try FileManager.default.createDirectory(atPath: app + "/modules/greet", withIntermediateDirectories: true)
        try scratch.write("app/hot.json", config(product: "BuiltinHostFixture"))
        try scratch.write("app/modules/greet/greet.swift", greet("v1"))
        return app
    }

    static func config(product: String) -> String {
        """
        {"name": "app", "host": {"package": "\(hotPackage)", "product": "\(product)"}}
        """
    }

    static func greet(_ tag: String) -> String {
        """
        import Hot

        let module = HotModule(exports: [
            .function("greet", { (name: String) -> String in "Hello, \\(name) (\(tag))" })
        ])

        """
    }

    /// The module's entry in `hot status --json`.
    static func module(_ name: String, _ scratch: Scratch) throws -> [String: Any] {
        let status = try scratch.hot(["status", "--json"])
        try #require(status.status == 0, "\(status)")
        let document = try #require(try parseJSON(status.stdout) as? [String: Any])
        let modules = try #require(document["modules"] as? [[String: Any]])
        return try #require(modules.first { $0["name"] as? String == name }, "\(status.stdout)")
    }
}
