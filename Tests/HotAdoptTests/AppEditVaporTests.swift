import HotPlatform
import Testing

@testable import HotAdopt

/// The edits of a Vapor app's sources, on files as strings: the shape
/// `vapor new` gives (an `@main` entry point, `configure(_:)`, `routes(_:)`),
/// and an app made all in main.swift.
@Suite struct AppEditVaporTests {
    private func edit(_ files: [String: String], module: String = "routes") throws -> AppEdit {
        try AppEdit.edit(
            files.sorted { $0.key < $1.key }.map { SourceFile(path: $0.key, text: $0.value) }, targetPath: "Sources/App", module: module, framework: .vapor)
    }

    private func changedText(_ edit: AppEdit, _ path: String) -> String? { edit.changed.first { $0.path == path }?.text }

    /// The sources of the Vapor app the end-to-end test adopts, laid out as
    /// `vapor new` lays an app out.
    static func fixture(_ file: String) throws -> String {
        let root = parentDirectory(parentDirectory(parentDirectory(#filePath)))
        return String(decoding: try #require(readFile(root + "/Tests/Fixtures/VaporNotesApp/Sources/App/" + file)), as: UTF8.self)
    }

    @Test func vaporNewShape() throws {
        var files: [String: String] = [:]
        for file in ["entrypoint.swift", "configure.swift", "routes.swift", "Models/Note.swift", "Controllers/NoteController.swift"] {
            files["Sources/App/" + file] = try Self.fixture(file)
        }
        let edited = try edit(files)
        #expect(edited.changed.map(\.path).sorted() == ["Sources/App/configure.swift", "Sources/App/entrypoint.swift"])
        #expect(
            changedText(edited, "Sources/App/configure.swift") == """
                import Vapor
                import HotNode
                import HotVapor

                /// Sets the app up: where it listens, and its routes.
                public func configure(_ app: Application) async throws {
                    // The Hot node of this project (socket, cookie and state in .hot/, as with
                    // `hot start`): it boots with the app, before the app serves, and stops
                    // with it; `hot stop` stops the app.
                    let hot = try HotNodeLifecycle.project()
                    app.lifecycle.use(hot)
                    // Answered by the current version of the hot module routes: `hot deploy` changes it while the app serves.
                    app.get("hot", use: hot.node.handler("routes", "hello"))

                    app.http.server.configuration.hostname = "127.0.0.1"
                    if let port = Environment.get("PORT").flatMap(Int.init) {
                        app.http.server.configuration.port = port
                    }
                    try routes(app, notes: NoteStore())
                }

                """)
        let entry = try #require(changedText(edited, "Sources/App/entrypoint.swift"))
        #expect(
            entry.contains("""
                    static func main() async throws {
                        // A new version of a hot module is first loaded in a child run of this
                        // executable (its trial load), which must do that and nothing else.
                        TrialLoad.runIfRequested()

                        var env = try Environment.detect()
                """), "\(entry)")
        #expect(entry.hasPrefix("import Logging\nimport Vapor\nimport HotNode\n"), "\(entry)")

        // Idempotent.
        var adopted = files
        for file in edited.changed { adopted[file.path] = file.text }
        #expect(try edit(adopted).changed.isEmpty)
        // A second module gets its route after the node's `use`.
        let second = try edit(adopted, module: "admin")
        #expect(
            changedText(second, "Sources/App/configure.swift")?.contains("""
                    app.lifecycle.use(hot)
                    // Answered by the current version of the hot module admin: `hot deploy` changes it while the app serves.
                    app.get("hot", use: hot.node.handler("admin", "hello"))
                    // Answered by the current version of the hot module routes
                """) == true, "\(second.changed)")
    }

    @Test func madeInMain() throws {
        let main = """
            import Vapor

            let app = try await Application.make(.detect())
            app.get("ping") { _ in "pong" }
            try await app.execute()

            """
        let edited = try edit(["Sources/App/main.swift": main])
        #expect(
            changedText(edited, "Sources/App/main.swift") == """
                import Vapor
                import HotNode
                import HotVapor

                // A new version of a hot module is first loaded in a child run of this
                // executable (its trial load), which must do that and nothing else.
                TrialLoad.runIfRequested()

                let app = try await Application.make(.detect())
                // The Hot node of this project (socket, cookie and state in .hot/, as with
                // `hot start`): it boots with the app, before the app serves, and stops
                // with it; `hot stop` stops the app.
                let hot = try HotNodeLifecycle.project()
                app.lifecycle.use(hot)
                // Answered by the current version of the hot module routes: `hot deploy` changes it while the app serves.
                app.get("hot", use: hot.node.handler("routes", "hello"))
                app.get("ping") { _ in "pong" }
                try await app.execute()

                """)
    }

    @Test func refusals() {
        #expect(
            throws: AdoptError.appShape(
                "Sources/App/configure.swift: configure(...) does not throw: the node is made there with `try HotNodeLifecycle.project()`; make it `throws` and run hot adopt again")
        ) {
            try edit([
                "Sources/App/entrypoint.swift": try Self.fixture("entrypoint.swift"),
                "Sources/App/configure.swift": "import Vapor\n\nfunc configure(_ app: Application) {\n    app.get { _ in \"hi\" }\n}\n",
            ])
        }
        #expect(
            throws: AdoptError.appShape(
                "no `configure(_ app: Application)` and no `Application.make(...)` in Sources/App: hot adopt starts the node where the Vapor Application is configured")
        ) {
            try edit(["Sources/App/main.swift": "print(1)\n"])
        }
        #expect(
            throws: AdoptError.appShape(
                "2 functions in Sources/App take an Application (setUp(...), routes(...)) and none alone is `configure`; hot adopt starts the node in the app's configure(_:)")
        ) {
            try edit([
                "Sources/App/main.swift": "import Vapor\nlet app = try await Application.make(.detect())\ntry setUp(app)\ntry await app.execute()\n",
                "Sources/App/setup.swift": "import Vapor\nfunc setUp(_ app: Application) throws {}\nfunc routes(_ app: Application) throws {}\n",
            ])
        }
        #expect(throws: AdoptError.appShape("Sources/App/configure.swift: `hot` is a name there already; hot adopt names the node so")) {
            try edit([
                "Sources/App/entrypoint.swift": try Self.fixture("entrypoint.swift"),
                "Sources/App/configure.swift": "import Vapor\n\nfunc configure(_ app: Application) throws {\n    let hot = 1\n}\n",
            ])
        }
    }
}
