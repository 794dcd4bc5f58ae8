import Foundation
import Synchronization
import Testing

/// `hot adopt` on a package in the shape of Hummingbird's own examples: an
/// `@main` AsyncParsableCommand in Sources/App/App.swift, `buildApplication`
/// in Sources/App/Application+build.swift, and a test target.
@Suite("hot adopt")
struct AdoptTests {
    static let manifest = """
        // swift-tools-version:6.0
        import PackageDescription

        let package = Package(
            name: "todos",
            platforms: [.macOS(.v14)],
            products: [
                .executable(name: "App", targets: ["App"]),
            ],
            dependencies: [
                .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.3.0"),
                .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
            ],
            targets: [
                .executableTarget(name: "App",
                    dependencies: [
                        .product(name: "ArgumentParser", package: "swift-argument-parser"),
                        .product(name: "Hummingbird", package: "hummingbird"),
                    ],
                    path: "Sources/App"
                ),
                .testTarget(name: "AppTests",
                    dependencies: [
                        .byName(name: "App"),
                        .product(name: "HummingbirdTesting", package: "hummingbird")
                    ],
                    path: "Tests/AppTests"
                )
            ]
        )

        """

    /// The `@main` command: the todo app's (Tests/Fixtures/TodoApp), which has the examples' shape.
    static let app = try! String(contentsOfFile: TodoAppTests.fixture + "/Sources/App/App.swift", encoding: .utf8)

    static let build = """
        import Hummingbird
        import Logging

        /// What buildApplication needs, so the tests can build the app too.
        public protocol AppArguments {
            var hostname: String { get }
            var port: Int { get }
            var logLevel: Logger.Level? { get }
        }

        // Request context used by the application
        typealias AppRequestContext = BasicRequestContext

        ///  Build application
        public func buildApplication(_ arguments: some AppArguments) async throws -> some ApplicationProtocol {
            let logger = {
                var logger = Logger(label: "todos")
                logger.logLevel = arguments.logLevel ?? .info
                return logger
            }()
            let router = buildRouter()
            let app = Application(
                router: router,
                configuration: .init(
                    address: .hostname(arguments.hostname, port: arguments.port),
                    serverName: "todos"
                ),
                logger: logger
            )
            return app
        }

        /// Build router
        func buildRouter() -> Router<AppRequestContext> {
            let router = Router(context: AppRequestContext.self)
            router.get("/health") { _, _ -> HTTPResponse.Status in
                return .ok
            }
            return router
        }

        """

    static let tests = """
        import Hummingbird
        import HummingbirdTesting
        import Logging
        import Testing

        @testable import App

        struct TestArguments: AppArguments {
            let hostname = "127.0.0.1"
            let port = 0
            let logLevel: Logger.Level? = .trace
        }

        @Test func health() async throws {
            let app = try await buildApplication(TestArguments())
            try await app.test(.router) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }

        """

    /// The fixture package in `folder` of the scratch root.
    private func writePackage(_ scratch: Scratch, _ folder: String, manifest: String = manifest, build: String = build) throws {
        for dir in ["Sources/App", "Tests/AppTests"] {
            try FileManager.default.createDirectory(atPath: scratch.path("\(folder)/\(dir)"), withIntermediateDirectories: true)
        }
        try scratch.write("\(folder)/Package.swift", manifest)
        try scratch.write("\(folder)/Sources/App/App.swift", Self.app)
        try scratch.write("\(folder)/Sources/App/Application+build.swift", build)
        try scratch.write("\(folder)/Tests/AppTests/AppTests.swift", Self.tests)
        try scratch.write("\(folder)/.gitignore", ".build/\n")
    }

    /// Every file under `folder`, by path, with its text.
    private func snapshot(_ scratch: Scratch, _ folder: String) throws -> [String: String] {
        let root = scratch.path(folder)
        var files: [String: String] = [:]
        for path in FileManager.default.subpaths(atPath: root) ?? [] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files[path] = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
        }
        return files
    }

    @Test("shows the diff, writes it on --apply, then has nothing to do")
    func adopt() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try writePackage(scratch, "todos")
        let before = try snapshot(scratch, "todos")

        let shown = try scratch.hot(["adopt"], in: "todos")
        try #require(shown.status == 0, "\(shown)")
        for header in [
            "--- a/Package.swift\n+++ b/Package.swift\n", "--- a/Sources/App/App.swift\n+++ b/Sources/App/App.swift\n",
            "--- a/Sources/App/Application+build.swift\n+++ b/Sources/App/Application+build.swift\n",
            "--- /dev/null\n+++ b/modules/routes/routes.swift\n@@ -0,0 +1,", "--- /dev/null\n+++ b/hot.json\n", "--- a/.gitignore\n+++ b/.gitignore\n",
        ] {
            #expect(shown.stdout.contains(header), "\(header)\n\(shown.stdout)")
        }
        #expect(shown.stdout.contains("+        TrialLoad.runIfRequested()\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("+    router.get(\"/hot\", use: hot.node.handler(\"routes\", \"hello\"))\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("-// swift-tools-version:6.0\n+// swift-tools-version:6.1\n"), "\(shown.stdout)")
        #expect(shown.stderr.contains("--apply"), "\(shown)")
        #expect(try snapshot(scratch, "todos") == before, "without --apply nothing is written")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("todos/.hot")))

        let applied = try scratch.hot(["adopt", "--apply"], in: "todos")
        try #require(applied.status == 0, "\(applied)")
        #expect(applied.stdout.contains("adopted: 6 files written"), "\(applied)")
        let after = try snapshot(scratch, "todos")
        #expect(after.keys.filter { $0.hasSuffix(".tmp") }.isEmpty, "no temporary file is left: \(after.keys.sorted())")

        let manifest = try #require(after["Package.swift"])
        let package = try #require(manifest.firstMatch(of: /\.package\(path: "([^"]+)", traits: \["Hummingbird"\]\)/)?.1)
        #expect(FileManager.default.fileExists(atPath: package + "/Sources/HotHummingbird"), "Hot's own package: \(package)")
        let identity = String(package.split(separator: "/").last ?? "").lowercased()
        for product in ["HotNode", "HotLifecycle", "HotHummingbird"] {
            #expect(manifest.contains(#".product(name: "\#(product)", package: "\#(identity)")"#), "\(manifest)")
        }
        #expect(manifest.contains(#"linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]"#), "\(manifest)")
        #expect(manifest.contains(#"plugins: [.plugin(name: "HotModuleEntry", package: "\#(identity)")]"#), "\(manifest)")
        #expect(manifest.contains(#"path: "modules/routes","#), "\(manifest)")
        #expect(manifest.hasPrefix("// swift-tools-version:6.1\n"))

        let entry = try #require(after["Sources/App/App.swift"])
        #expect(entry.contains("static func main() async {"), "\(entry)")
        #expect(entry.contains("import HotNode"))
        let build = try #require(after["Sources/App/Application+build.swift"])
        #expect(build.contains("let hot = try HotNodeService.project()\n    _ = try await hot.host.start()\n"), "\(build)")
        #expect(build.contains("        services: [hot],\n        logger: logger\n"), "\(build)")
        #expect(try #require(after["modules/routes/routes.swift"]).contains("(request: Request, context: BasicRequestContext) async throws -> Response"))
        let hotJSON = try #require(after["hot.json"])
        let config = try #require(try parseJSON(hotJSON) as? [String: Any])
        #expect((config["host"] as? [String: String]) == ["package": ".", "product": "App", "configuration": "debug"])
        #expect(config["name"] as? String == "todos")
        #expect(after[".gitignore"] == ".build/\n.hot/\n")
        #expect(after["Tests/AppTests/AppTests.swift"] == before["Tests/AppTests/AppTests.swift"], "the app's tests are left alone")

        // Idempotent: shown or applied, there is nothing more to do.
        for arguments in [["adopt"], ["adopt", "--apply"]] {
            let again = try scratch.hot(arguments, in: "todos")
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.contains("nothing to do"), "\(again)")
            #expect(try snapshot(scratch, "todos") == after)
        }
    }

    @Test("a package not of the shape is refused in one line, and nothing is written")
    func refusals() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        // Neither Hummingbird nor Vapor.
        let noFramework = Self.manifest.replacing("hummingbird-project/hummingbird.git", with: "apple/swift-nio.git")
        try writePackage(scratch, "plain", manifest: noFramework)
        // Package.swift is fine, the app is not: its edit must not be written either.
        try writePackage(scratch, "noapp", build: Self.build.replacing("let app = Application(", with: "let app = makeApp("))

        for (folder, reason) in [("plain", "depends on neither Hummingbird nor Vapor"), ("noapp", "no `Application(router: ...)` in Sources/App")] {
            let before = try snapshot(scratch, folder)
            for arguments in [["adopt"], ["adopt", "--apply"]] {
                let refused = try scratch.hot(arguments, in: folder)
                #expect(refused.status == 1, "\(refused)")
                #expect(refused.stdout.isEmpty, "\(refused)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused)")
                #expect(refused.stderr.contains(reason), "\(refused)")
                #expect(try snapshot(scratch, folder) == before, "nothing written in \(folder)")
                #expect(!FileManager.default.fileExists(atPath: scratch.path(folder + "/.hot")))
            }
        }
        let notPackage = try scratch.hot(["adopt"], in: "")
        #expect(notPackage.status == 1 && notPackage.stderr.contains("no Package.swift"), "\(notPackage)")
        let badName = try scratch.hot(["adopt", "--module", "Routes"], in: "plain")
        #expect(badName.status == 1 && badName.stderr.contains("invalid module name 'Routes'"), "\(badName)")
    }

    @Test("a main.swift app: the trial first, then the node, the route and the service")
    func mainSwift() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try writePackage(scratch, "shop")
        try FileManager.default.removeItem(atPath: scratch.path("shop/Sources/App/App.swift"))
        try FileManager.default.removeItem(atPath: scratch.path("shop/Sources/App/Application+build.swift"))
        try scratch.write("shop/Sources/App/main.swift", """
            import Hummingbird

            let router = Router()
            router.get("/health") { _, _ in "ok" }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
            try await app.runService()

            """)
        let applied = try scratch.hot(["adopt", "--apply", "--module", "api"], in: "shop")
        try #require(applied.status == 0, "\(applied)")
        let main = try scratch.read("shop/Sources/App/main.swift")
        let order = ["TrialLoad.runIfRequested()", "let hot = try HotNodeService.project()", "_ = try await hot.host.start()",
            "let router = Router()", #"router.get("/hot", use: hot.node.handler("api", "hello"))"#, "services: [hot])", "try await app.runService()"]
        let positions = order.map { main.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(main)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "in this order: \(main)")
        #expect(try scratch.read("shop/modules/api/api.swift").contains(#".function("hello")"#))
        #expect(try scratch.hot(["adopt", "--module", "api"], in: "shop").stdout.contains("nothing to do"))
    }

    @Test("a request context from a library target of the package: the module depends on it and imports it")
    func contextFromALibrary() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try writePackage(scratch, "shop", manifest: Self.manifest.replacing("""
                    .testTarget(name: "AppTests",
            """, with: """
                    .target(name: "Shared", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
                    .testTarget(name: "AppTests",
            """).replacing("""
                            .product(name: "Hummingbird", package: "hummingbird"),
                        ],
                        path: "Sources/App"
            """, with: """
                            .product(name: "Hummingbird", package: "hummingbird"),
                            "Shared",
                        ],
                        path: "Sources/App"
            """))
        try FileManager.default.createDirectory(atPath: scratch.path("shop/Sources/Shared"), withIntermediateDirectories: true)
        try scratch.write("shop/Sources/Shared/Shared.swift", "import Hummingbird\n\npublic typealias AppContext = BasicRequestContext\n")
        try scratch.write("shop/Sources/App/Application+build.swift", Self.build
            .replacing("typealias AppRequestContext = BasicRequestContext", with: "")
            .replacing("AppRequestContext", with: "AppContext").replacing("import Logging", with: "import Logging\nimport Shared"))
        let applied = try scratch.hot(["adopt", "--apply"], in: "shop")
        try #require(applied.status == 0, "\(applied)")
        let manifest = try scratch.read("shop/Package.swift")
        #expect(manifest.contains(#"name: "routes",\#n            dependencies: ["Shared", .product(name: "Hot", package: "#), "\(manifest)")
        let module = try scratch.read("shop/modules/routes/routes.swift")
        #expect(module.hasPrefix("import Hot\nimport Hummingbird\nimport Shared\n"), "\(module)")
        #expect(module.contains("(request: Request, context: AppContext) async throws -> Response"), "\(module)")
    }

    @Test("a write that fails leaves the package as it was, with no temporary file")
    func failedWrite() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try writePackage(scratch, "todos")
        // A file where the module's folder must go: the last file to write cannot be.
        try scratch.write("todos/modules", "not a folder\n")
        let before = try snapshot(scratch, "todos")
        let failed = try scratch.hot(["adopt", "--apply"], in: "todos")
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stderr.split(separator: "\n").count == 1, "\(failed)")
        #expect(failed.stderr.contains("cannot write modules/routes/routes.swift"), "\(failed)")
        #expect(try snapshot(scratch, "todos").filter { !$0.key.hasPrefix(".hot/") } == before)
    }

    @Test("two at once: one writes, the other finds nothing to do")
    func twoAtOnce() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try writePackage(scratch, "todos")
        let outcomes = Mutex<[Outcome]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let outcome = (try? scratch.hot(["adopt", "--apply", "--module", "api"], in: "todos")) ?? Outcome(status: -1, stdout: "", stderr: "did not run")
            outcomes.withLock { $0.append(outcome) }
        }
        let both = outcomes.withLock { $0 }
        #expect(both.allSatisfy { $0.status == 0 }, "\(both)")
        #expect(both.filter { $0.stdout.contains("adopted: ") }.count == 1, "\(both)")
        #expect(both.filter { $0.stdout.contains("nothing to do") }.count == 1, "\(both)")
        let manifest = try scratch.read("todos/Package.swift")
        #expect(manifest.components(separatedBy: ".package(path:").count == 2, "one dependency on Hot: \(manifest)")
        #expect(manifest.components(separatedBy: #"name: "api""#).count == 2, "one module target: \(manifest)")
    }

    @Test("hot help adopt describes it, and hot help lists it")
    func help() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let help = try scratch.hot(["help", "adopt"], in: "")
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: hot adopt [DIR] [--module NAME] [--hot-package DIR] [--apply]\n"), "\(help)")
        #expect(help.stdout.contains("--apply"))
        #expect(try scratch.hot(["help"], in: "").stdout.contains("  adopt "))
    }
}
