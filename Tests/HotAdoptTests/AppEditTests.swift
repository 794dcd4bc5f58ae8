import Testing

@testable import HotAdopt

/// The app's own sources' edits, on files as strings: main.swift, and the
/// `@main` type with its application built in another file.
@Suite struct AppEditTests {
    private func edit(_ files: [String: String], module: String = "routes") throws -> AppEdit {
        try AppEdit.edit(files.sorted { $0.key < $1.key }.map { SourceFile(path: $0.key, text: $0.value) }, targetPath: "Sources/App", module: module)
    }

    private func changedText(_ edit: AppEdit, _ path: String) -> String? { edit.changed.first { $0.path == path }?.text }

    @Test func mainSwift() throws {
        let main = """
            import Hummingbird

            // The app.
            let router = Router()
            router.get("/") { _, _ in "hi" }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
            try await app.runService()

            """
        let edited = try edit(["Sources/App/main.swift": main])
        #expect(edited.context == "BasicRequestContext")
        #expect(
            changedText(edited, "Sources/App/main.swift") == """
                import Hummingbird
                import HotHummingbird
                import HotLifecycle
                import HotNode

                // A new version of a hot module is first loaded in a child run of this
                // executable (its trial load), which must do that and nothing else.
                TrialLoad.runIfRequested()

                // The Hot node of this project (socket, cookie and state in .hot/, as with
                // `hot start`), booted before the server listens so that the first request
                // finds its modules; the Application runs it as one of its services.
                let hot = try HotNodeService.project()
                _ = try await hot.host.start()

                // The app.
                let router = Router()
                router.get("/") { _, _ in "hi" }
                // Answered by the current version of the hot module routes: `hot deploy` changes it while the app serves.
                router.get("/hot", use: hot.node.handler("routes", "hello"))
                let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)), services: [hot])
                try await app.runService()

                """)
        // Idempotent.
        let again = try edit(["Sources/App/main.swift": try #require(changedText(edited, "Sources/App/main.swift"))])
        #expect(again.changed.isEmpty)
    }

    static let appSwift = """
        import ArgumentParser
        import Hummingbird

        @main
        struct App: AsyncParsableCommand, AppArguments {
            @Option(name: .shortAndLong)
            var port: Int = 8080

            func run() async throws {
                let app = try await buildApplication(self)
                try await app.runService()
            }
        }

        """

    static let build = """
        import Hummingbird
        import Logging

        public protocol AppArguments {
            var port: Int { get }
        }

        typealias AppRequestContext = BasicRequestContext

        public func buildApplication(_ arguments: some AppArguments) async throws -> some ApplicationProtocol {
            let router = buildRouter()
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: arguments.port)),
                logger: Logger(label: "app")
            )
            return app
        }

        func buildRouter() -> Router<AppRequestContext> {
            let router = Router(context: AppRequestContext.self)
            router.get("/health") { _, _ -> HTTPResponse.Status in .ok }
            return router
        }

        """

    @Test func mainTypeWithBuildApplication() throws {
        let edited = try edit(["Sources/App/App.swift": Self.appSwift, "Sources/App/Application+build.swift": Self.build])
        #expect(edited.context == "BasicRequestContext", "the typealias is followed to Hummingbird's type")
        #expect(
            changedText(edited, "Sources/App/App.swift") == """
                import ArgumentParser
                import Hummingbird
                import HotNode

                @main
                struct App: AsyncParsableCommand, AppArguments {
                    /// Runs a trial load when this process is one (`TrialLoad`), then the
                    /// command as ArgumentParser runs it.
                    static func main() async {
                        // A new version of a hot module is first loaded in a child run of this
                        // executable (its trial load), which must do that and nothing else.
                        TrialLoad.runIfRequested()
                        await main(nil)
                    }

                    @Option(name: .shortAndLong)
                    var port: Int = 8080

                    func run() async throws {
                        let app = try await buildApplication(self)
                        try await app.runService()
                    }
                }

                """)
        #expect(
            changedText(edited, "Sources/App/Application+build.swift") == """
                import Hummingbird
                import Logging
                import HotHummingbird
                import HotLifecycle
                import HotNode

                public protocol AppArguments {
                    var port: Int { get }
                }

                typealias AppRequestContext = BasicRequestContext

                public func buildApplication(_ arguments: some AppArguments) async throws -> some ApplicationProtocol {
                    // The Hot node of this project (socket, cookie and state in .hot/, as with
                    // `hot start`), booted before the server listens so that the first request
                    // finds its modules; the Application runs it as one of its services.
                    let hot = try HotNodeService.project()
                    _ = try await hot.host.start()

                    let router = buildRouter()
                    // Answered by the current version of the hot module routes: `hot deploy` changes it while the app serves.
                    router.get("/hot", use: hot.node.handler("routes", "hello"))
                    let app = Application(
                        router: router,
                        configuration: .init(address: .hostname("127.0.0.1", port: arguments.port)),
                        services: [hot],
                        logger: Logger(label: "app")
                    )
                    return app
                }

                func buildRouter() -> Router<AppRequestContext> {
                    let router = Router(context: AppRequestContext.self)
                    router.get("/health") { _, _ -> HTTPResponse.Status in .ok }
                    return router
                }

                """)
        let files = ["Sources/App/App.swift", "Sources/App/Application+build.swift"].map { path in
            SourceFile(path: path, text: edited.changed.first { $0.path == path }!.text)
        }
        #expect(try AppEdit.edit(files, targetPath: "Sources/App", module: "routes").changed.isEmpty)
    }

    /// A `@main` type with its own `static func main()` that makes the
    /// Application itself: the trial first, then the node; services appended.
    @Test func mainTypeWithItsOwnMain() throws {
        let main = """
            import Hummingbird

            struct Context: RequestContext {}

            @main
            enum Server {
                static func main() async throws {
                    let router = Router(context: Context.self)
                    var app = Application(router: router, services: [Other()])
                    try await app.runService()
                }
            }

            """
        #expect(throws: AdoptError.appShape("the request context Context is declared in Sources/App, which a hot module cannot import: move it to a library target first")) {
            try edit(["Sources/App/Server.swift": main])
        }
        let plain = main.replacing("Router(context: Context.self)", with: "Router(context: Shared.AppContext.self)")
        let edited = try edit(["Sources/App/Server.swift": plain])
        #expect(edited.context == "Shared.AppContext")
        let text = try #require(changedText(edited, "Sources/App/Server.swift"))
        #expect(text.contains("""
                static func main() async throws {
                    // A new version of a hot module is first loaded in a child run of this
                    // executable (its trial load), which must do that and nothing else.
                    TrialLoad.runIfRequested()

                    // The Hot node of this project
            """), "\(text)")
        #expect(text.contains("var app = Application(router: router, services: [Other(), hot])"), "\(text)")
    }

    @Test func refusals() {
        #expect(throws: AdoptError.appShape("no main.swift and no @main type in Sources/App: hot adopt puts the trial load first in main")) {
            try edit(["Sources/App/a.swift": "let x = 1\n"])
        }
        #expect(throws: AdoptError.appShape("no `Application(router: ...)` in Sources/App: hot adopt runs the node beside the Hummingbird Application it finds there")) {
            try edit(["Sources/App/main.swift": "print(1)\n"])
        }
        #expect(throws: AdoptError.appShape("Sources/App/b.swift: build(...) is not `async throws`: the node starts there before the server; make it so and run hot adopt again")) {
            try edit([
                "Sources/App/App.swift": Self.appSwift,
                "Sources/App/b.swift": "func build() -> some ApplicationProtocol {\n    let router = Router()\n    return Application(router: router)\n}\n",
            ])
        }
        #expect(throws: AdoptError.appShape("Sources/App/main.swift: the Application's `router:` is not a name; bind the router to a `let` first, hot adopt adds a route to it")) {
            try edit(["Sources/App/main.swift": "let app = Application(router: Router())\n"])
        }
        #expect(throws: AdoptError.appShape("Sources/App/@main.swift: the @main type Tool has no `static func main()` and is not an AsyncParsableCommand; hot adopt puts the trial load first in main")) {
            try edit([
                "Sources/App/@main.swift": "@main\nstruct Tool: ParsableCommand {\n    func run() throws {}\n}\n",
                "Sources/App/b.swift": "func build() async throws -> some ApplicationProtocol {\n    let router = Router()\n    return Application(router: router)\n}\n",
            ])
        }
        #expect(throws: AdoptError.appShape("Sources/App/main.swift: `hot` is a name there already; hot adopt names the node's service so")) {
            try edit(["Sources/App/main.swift": "let hot = 1\nlet router = Router()\nlet app = Application(router: router)\n"])
        }
    }
}
