import Foundation
import Testing

/// A real SwiftPM host package, built once for the whole suite and removed
/// after it: a C target, a library target `Shared` over it, a library
/// target `Other` that the executable does not link, and an executable
/// `server` linking `Shared` and the SDK (its `Hot` target is this
/// package's own `Sources/Hot`, so it carries the same SDK fingerprint) with
/// `--export-dynamic`.
struct HostPackage: SuiteTrait, TestScoping {
    @TaskLocal static var current: Scratch?

    /// The host's folder under the scratch root.
    static let folder = "server"

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try Self.write(in: scratch)
        let built = try scratch.swiftBuild(in: Self.folder)
        try #require(built.status == 0, "\(built)")
        try await Self.$current.withValue(scratch) { try await function() }
    }

    static func write(in scratch: Scratch) throws {
        let root = scratch.path(folder)
        for dir in ["Sources/CShared/include", "Sources/Shared", "Sources/Other", "Sources/server"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        let sdk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Hot").path
        try FileManager.default.createSymbolicLink(atPath: root + "/Sources/Hot", withDestinationPath: sdk)
        try scratch.write(folder + "/Package.swift", """
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(
                name: "server",
                products: [.executable(name: "server", targets: ["server"])],
                targets: [
                    .target(name: "Hot"),
                    .target(name: "CShared", cSettings: [.define("CSHARED_BASE", to: "40")]),
                    .target(name: "Shared", dependencies: ["CShared"]),
                    .target(name: "Other"),
                    .executableTarget(
                        name: "server", dependencies: ["Shared", "Hot"],
                        linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]),
                ]
            )
            """)
        try scratch.write(folder + "/Sources/CShared/include/cshared.h", "int cshared_answer(void);\n")
        try scratch.write(folder + "/Sources/CShared/cshared.c", "#include \"cshared.h\"\nint cshared_answer(void) { return CSHARED_BASE + 2; }\n")
        try scratch.write(folder + "/Sources/Shared/Shared.swift", """
            import CShared
            public struct Greeting: Sendable {
                public let text: String
                public init(_ text: String) { self.text = text }
            }
            public func sharedAnswer() -> Int { Int(cshared_answer()) }
            """)
        try scratch.write(folder + "/Sources/Other/Other.swift", "public func otherValue() -> Int { 7 }\n")
        try scratch.write(folder + "/Sources/server/main.swift", """
            import Hot
            import Shared
            print(Greeting("up").text, sharedAnswer(), HotSDK.abiVersion)
            """)
    }

    /// The host executable's GNU build-id, as readelf prints it.
    static func buildID(_ scratch: Scratch) throws -> String {
        let out = try scratch.run("/usr/bin/env", ["readelf", "-n", scratch.path(folder + "/.build/debug/server")], in: scratch.root)
        let line = try #require(out.stdout.split(separator: "\n").first { $0.contains("Build ID:") })
        return String(try #require(line.split(separator: " ").last))
    }
}

/// Hot modules compiled against a host: they import its library targets,
/// link none of them, carry its build-id, and are refused elsewhere.
@Suite("Host modules", .serialized, HostPackage())
struct HostModuleTests {
    private let importsShared = """
        import CShared
        import Hot
        import Shared

        let module = HotModule(exports: [
            .function("greet", { (name: String) -> String in Greeting("Hello, \\(name) \\(sharedAnswer() + Int(cshared_answer()))").text }),
        ])
        """

    @Test("a module importing the host's library compiles, links no copy of it, and carries the host's build-id")
    func importsHostLibrary() throws {
        let project = try HostProject(source: importsShared)
        defer { project.remove() }
        let scratch = project.scratch
        let built = try project.hot(["build"])
        try #require(built.status == 0, "\(built)")
        let so = try project.artifact()
        // The host's -I and -Xcc flags go through the plan derived from the
        // driver like any other (docs/ARCHITECTURE.md, "Direct build").
        let plans = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path(project.name + "/.hot/build/.driver-plans"))) ?? []
        #expect(plans.contains { $0.hasSuffix(".plan") } && !built.stderr.contains("driver"), "\(plans) \(built)")

        let undefined = try scratch.run("/usr/bin/env", ["nm", "-D", "--undefined-only", so], in: scratch.root).stdout
        let defined = try scratch.run("/usr/bin/env", ["nm", "-D", "--defined-only", so], in: scratch.root).stdout
        // Shared's initializer and the C function are references to the host's copies, not code of the module.
        #expect(undefined.contains("$s6Shared8GreetingVyACSScfC"), "\(undefined)")
        #expect(undefined.contains("$s6Shared12sharedAnswerSiyF"), "\(undefined)")
        #expect(undefined.contains("cshared_answer"), "\(undefined)")
        #expect(!defined.contains("$s6Shared"), "\(defined)")
        #expect(!defined.contains("cshared_answer"), "\(defined)")
        #expect(!defined.contains("$s3Hot"), "\(defined)")

        let bytes = try Data(contentsOf: URL(fileURLWithPath: so))
        let id = try HostPackage.buildID(scratch)
        #expect(bytes.range(of: Data("\nhost \(id)\n".utf8)) != nil, "the descriptor names the host's build-id \(id)")

        // Nothing changed: the host's build description is not read again.
        let cache = scratch.path(project.name + "/.hot/host/build.json")
        let before = try FileManager.default.attributesOfItem(atPath: cache)[.modificationDate] as? Date
        let again = try project.hot(["build"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("greet is up to date (v1)"), "\(again)")
        let after = try FileManager.default.attributesOfItem(atPath: cache)[.modificationDate] as? Date
        #expect(before != nil && before == after)

        // Another product in hot.json: what was read for the first is not reused.
        try scratch.write(project.name + "/hot.json", """
            {"name": "\(project.name)", "host": {"package": "../\(HostPackage.folder)", "product": "Other"}}
            """)
        let other = try project.hot(["build"])
        #expect(other.status == 1, "\(other)")
        #expect(other.stderr.contains("links no executable named Other"), "\(other)")
    }

    @Test("importing a module the host does not link fails hot build, naming it")
    func importNotLinked() throws {
        let scratch = try #require(HostPackage.current)
        // Other.swiftmodule exists in the host's module folder: only the link decides.
        #expect(FileManager.default.fileExists(atPath: scratch.path(HostPackage.folder + "/.build/debug/Modules/Other.swiftmodule")))
        let project = try HostProject(source: """
            import Hot
            import Other

            let module = HotModule(exports: [.function("value", { () -> Int in otherValue() })])
            """)
        defer { project.remove() }
        let built = try project.hot(["build"])
        #expect(built.status == 1, "\(built)")
        #expect(built.stderr.contains("module greet imports Other, which the host server does not link"), "\(built)")
        #expect(built.stderr.contains("swift build --product server"), "\(built)")
    }

    @Test("a host module is refused by hotnode: built against another build of the host")
    func refusedByHotnode() throws {
        let project = try HostProject(source: importsShared)
        defer { project.remove() }
        let scratch = project.scratch
        // One module that needs the host's own library (dlopen fails in
        // hotnode, which lacks it), one that needs only the SDK (dlopen
        // succeeds there): both are refused for the host they name.
        try FileManager.default.createDirectory(atPath: scratch.path(project.name + "/modules/plain"), withIntermediateDirectories: true)
        try scratch.write(project.name + "/modules/plain/plain.swift", """
            import Hot
            let module = HotModule(exports: [.function("one", { () -> Int in 1 })])
            """)
        let built = try project.hot(["build"])
        try #require(built.status == 0, "\(built)")
        for module in ["greet", "plain"] {
            let checked = try scratch.run(Binaries.directory + "/hotnode", ["--check", try project.artifact(module)], in: scratch.root)
            #expect(checked.status != 0, "\(checked)")
            let output = checked.stdout + checked.stderr
            #expect(output.contains("module '\(module)' was built against another build of the host"), "\(checked)")
            #expect(output.contains("restart the host if it was rebuilt since it started"), "\(checked)")
            #expect(!output.contains("run `hot build`"), "advice that cannot work for a node that runs the other build: \(checked)")
        }
    }

    @Test("a host that is not built yet: a one-line error saying how to build it")
    func hostNotBuilt() throws {
        let project = try HostProject(source: importsShared)
        defer { project.remove() }
        let scratch = project.scratch
        try scratch.write(project.name + "/hot.json", """
            {"name": "\(project.name)", "host": {"package": "unbuilt", "product": "api", "configuration": "release"}}
            """)
        let built = try project.hot(["build"])
        #expect(built.status == 1, "\(built)")
        #expect(built.stderr.contains("the host api in unbuilt is not built yet: run `swift build --product api -c release` in unbuilt"), "\(built)")
        #expect(built.stderr.split(separator: "\n").count == 1, "\(built)")
    }

    @Test("a host module newer than the host's executable (a host build that failed) is refused")
    func hostOutOfDate() throws {
        let project = try HostProject(source: importsShared)
        defer { project.remove() }
        let module = project.scratch.path(HostPackage.folder + "/.build/debug/Modules/Shared.swiftmodule")
        let attributes = try FileManager.default.attributesOfItem(atPath: module)
        defer { try? FileManager.default.setAttributes(attributes, ofItemAtPath: module) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: module)
        let built = try project.hot(["build"])
        #expect(built.status == 1, "\(built)")
        #expect(built.stderr.contains("the host's module Shared is newer than its executable server"), "\(built)")
        #expect(built.stderr.contains("run `swift build --product server`"), "\(built)")
    }

    @Test("a host source newer than the host's executable (edited, not built since) is refused in one line")
    func hostSourceNewer() throws {
        let project = try HostProject(source: importsShared)
        defer { project.remove() }
        let source = project.scratch.path(HostPackage.folder + "/Sources/Shared/Shared.swift")
        let attributes = try FileManager.default.attributesOfItem(atPath: source)
        defer { try? FileManager.default.setAttributes(attributes, ofItemAtPath: source) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: source)
        let built = try project.hot(["build"])
        #expect(built.status == 1, "\(built)")
        #expect(built.stderr.split(separator: "\n").count == 1, "\(built)")
        #expect(built.stderr.contains("the host's source Sources/Shared/Shared.swift is newer than its executable server"), "\(built)")
        #expect(built.stderr.contains("run `swift build --product server` in ../server"), "\(built)")
        try FileManager.default.setAttributes(attributes, ofItemAtPath: source)
        let again = try project.hot(["build"])
        #expect(again.status == 0, "\(again)")

        // Touched, not changed: swift build compiles it to the same object
        // and links nothing, and the host is current all the same.
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: source)
        let rebuilt = try project.scratch.swiftBuild(in: HostPackage.folder)
        try #require(rebuilt.status == 0, "\(rebuilt)")
        let touched = try project.hot(["build"])
        #expect(touched.status == 0, "\(touched)")
    }

    @Test("rebuilding the host rebuilds every module: a new version, a new key, the new build-id")
    func rebuiltHost() throws {
        let project = try HostProject(source: importsShared)
        defer { project.remove() }
        let scratch = project.scratch
        let first = try project.hot(["build", "--json"])
        try #require(first.status == 0, "\(first)")
        let oldID = try HostPackage.buildID(scratch)

        let source = HostPackage.folder + "/Sources/Shared/Shared.swift"
        try scratch.write(source, try scratch.read(source) + "\npublic func sharedExtra() -> Int { 1 }\n")
        let rebuilt = try scratch.swiftBuild(in: HostPackage.folder)
        try #require(rebuilt.status == 0, "\(rebuilt)")
        let newID = try HostPackage.buildID(scratch)
        try #require(newID != oldID)

        let second = try project.hot(["build", "--json"])
        try #require(second.status == 0, "\(second)")
        func greet(_ outcome: Outcome) throws -> [String: Any] {
            let document = try #require(try parseJSON(outcome.stdout) as? [String: Any])
            let modules = try #require(document["modules"] as? [[String: Any]])
            return try #require(modules.first { $0["name"] as? String == "greet" })
        }
        let before = try greet(first)
        let after = try greet(second)
        #expect(after["status"] as? String == "built", "\(second)")
        #expect(after["version"] as? Int == 2, "\(second)")
        #expect(after["key"] as? String != before["key"] as? String)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try project.artifact()))
        #expect(bytes.range(of: Data("\nhost \(newID)\n".utf8)) != nil)
    }
}

/// A hot project beside the suite's host package, naming it as its host,
/// with one module `greet`; `remove()` deletes it.
struct HostProject {
    let scratch: Scratch
    let name = "p\(UInt32.random(in: 0...UInt32.max))"

    init(source: String) throws {
        scratch = try #require(HostPackage.current)
        let made = try scratch.hot(["init", name], in: "")
        try #require(made.status == 0, "\(made)")
        try scratch.write(name + "/hot.json", """
            {"name": "\(name)", "host": {"package": "../\(HostPackage.folder)", "product": "server"}}
            """)
        try FileManager.default.createDirectory(atPath: scratch.path(name + "/modules/greet"), withIntermediateDirectories: true)
        try scratch.write(name + "/modules/greet/greet.swift", source)
    }

    func hot(_ arguments: [String]) throws -> Outcome { try scratch.hot(arguments, in: name) }

    /// The current build of `module`.
    func artifact(_ module: String = "greet") throws -> String {
        let folder = scratch.path(name + "/.hot/build/\(module)/")
        return folder + (try FileManager.default.destinationOfSymbolicLink(atPath: folder + "current"))
    }

    func remove() { try? FileManager.default.removeItem(atPath: scratch.path(name)) }
}
