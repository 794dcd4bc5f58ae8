import Foundation
import Testing

/// In-process nodes end to end (docs/EMBEDDING.md, "Testing a host
/// in-process"): a copy of `BuiltinHostFixture` named like a test bundle
/// (`*.xctest`) does what an app's test does, on a project whose app may be
/// running: it runs the project's node, calls the built-in version through
/// a typed handle, and loads a version `hot build` made for another build
/// of the host.
@Suite("In-process nodes", .serialized)
struct InProcessTests {
    @Test("a test bundle runs its project's node in-process: no socket, no pid file, no trial child, the built-in version served, a version built for another host build loaded for testing, its state folder gone at stop; beside the running app, which goes on serving")
    func testBundle() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let made = try scratch.hot(["init", "app"], in: "")
        try #require(made.status == 0, "\(made)")
        let app = scratch.path("app")
        try FileManager.default.removeItem(atPath: app + "/modules/hello")
        try FileManager.default.createDirectory(atPath: app + "/modules/greet", withIntermediateDirectories: true)
        // Built against EmbeddedHostFixture: another build than the one that runs it.
        try scratch.write("app/hot.json", BuiltinVersionTests.config(product: "EmbeddedHostFixture"))
        try scratch.write("app/modules/greet/greet.swift", BuiltinVersionTests.greet("v1"))
        let built = try scratch.hot(["build"])
        try #require(built.status == 0, "\(built)")
        let folder = app + "/.hot/build/greet/"
        let object = folder + (try FileManager.default.destinationOfSymbolicLink(atPath: folder + "current"))

        let bundle = scratch.path("AppPackageTests.xctest")
        try FileManager.default.copyItem(atPath: Binaries.directory + "/BuiltinHostFixture", toPath: bundle)
        let temporary = scratch.path("tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        func runTests() throws -> Outcome {
            try scratch.run(bundle, ["--in-process", app, object], in: app, environment: ["TMPDIR": temporary])
        }

        let alone = try runTests()
        #expect(alone.status == 0, "\(alone)")
        #expect(alone.stdout == """
            in-process true
            called Hello, x (built in)
            loaded greet v0 -> v1
            called Hello, x (v1)
            socket false
            pid file false
            children 0
            state folder left false

            """, "\(alone)")
        let said = (alone.stdout + alone.stderr).split(separator: "\n").filter { $0.contains("runs in-process") }
        #expect(said.count == 1 && said.first?.contains("AppPackageTests.xctest is a test bundle, not the project's host") == true, "\(alone)")
        #expect(!(alone.stdout + alone.stderr).contains("trial load of"), "\(alone)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: app + "/.hot/node"), "no state of the project's node written")

        // The app runs on the project; the tests run beside it, and it goes on serving.
        let host = try EmbeddedHost.start(project: app, in: scratch.root, executable: "BuiltinHostFixture")
        defer { host.end() }
        let beside = try runTests()
        #expect(beside.status == 0, "\(beside)")
        #expect(beside.stdout.contains("called Hello, x (v1)") && beside.stdout.contains("socket true"), "\(beside)")
        #expect(try scratch.hot(["call", "greet:greet", "x"]).stdout == "\"Hello, x (built in)\"\n", "\(host.output)")
        #expect(host.output.contains("skipped greet v1"), "the app itself does not take that build: \(host.output)")
        #expect(host.finish() == 0, "\(host.output)")
    }
}
