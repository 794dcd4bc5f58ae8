import Foundation
import Synchronization
import Testing

/// An app written as Hummingbird's own examples are (an `@main`
/// ArgumentParser command, `buildApplication`, a controller, a library
/// with its model and a postgres-nio repository, its own tests), adopted
/// with `hot adopt --apply`, run against a real PostgreSQL server, its todo
/// handlers moved into the hot module by hand, then deployed into 50 times
/// while keep-alive clients write rows without pause, and its own code
/// patched while it serves.
@Suite("An adopted Hummingbird and PostgreSQL app", .serialized)
struct TodoAppTests {
    static let deploys = 50
    static let clients = 4
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/TodoApp").path

    @Test("adopted, it serves after swift build, passes its tests in-process, and takes 50 deploys under load with no row lost")
    func adoptedApp() async throws {
        let postgres = try await offPool { try PostgresServer() }
        let scratch = try Scratch()
        let app = RunningApp()
        defer {
            app.stop()
            postgres.stop()
            scratch.close()
        }
        try copyFixture(to: scratch.path("todos"))

        // Adopted, built by SwiftPM alone, every route answers: the app's own
        // and the module's, whose built-in version the app boots.
        let adopted = try scratch.hot(["adopt", "--apply"], in: "todos")
        try #require(adopted.status == 0, "\(adopted)")
        // The fixture is no git repository yet; adopt says what hot deploy will need, and the user does it.
        #expect(adopted.stderr.contains("is not inside a git repository") && adopted.stderr.contains("run `git init` there first"), "\(adopted)")
        let repository = try scratch.run("/usr/bin/env", ["git", "init", "-q"], in: scratch.path("todos"))
        try #require(repository.status == 0, "\(repository)")
        let built = try await offPool { try scratch.swiftBuild(["--product", "App"], in: "todos") }
        try #require(built.status == 0, "\(built)")
        let port = Int(try freeLoopbackPort())
        let start = { @Sendable in
            try await offPool {
                try app.start(in: scratch.path("todos"), port: port, executable: "App", arguments: ["--port", "\(port)"], environment: postgres.environment)
            }
        }
        try await start()
        let connection = try KeepAliveConnection(port: port)
        let hello = try connection.get("/hot")
        #expect(hello.status == 200 && hello.body == "Hello from the hot module routes!\n", "\(hello.body)\n\(app.log())")
        let own = try connection.post("/todos", json: #"{"title":"built in"}"#)
        #expect(own.status == 201 && own.body.contains(#""title":"built in""#), "\(own.status) \(own.body)")

        // The first `hot deploy` after adoption.
        let module = "todos/modules/routes/routes.swift"
        try scratch.write(module, try scratch.read(module).replacingOccurrences(of: "Hello from the hot module", with: "Hi from the hot module"))
        let first = try await offPool { try scratch.hot(["deploy"], in: "todos") }
        try #require(first.status == 0, "\(first)\n\(app.log())")
        #expect(try connection.get("/hot").body == "Hi from the hot module routes!\n")

        // The todo handlers move into the module, which gets the app's
        // repository on each request; the app is rebuilt and restarted, and
        // serves the new routes at once, from the version it built in.
        try moveHandlersIntoModule(scratch)
        let rebuilt = try await offPool { try scratch.swiftBuild(["--product", "App"], in: "todos") }
        try #require(rebuilt.status == 0, "\(rebuilt)")
        app.stop()
        try await start()
        let restarted = try KeepAliveConnection(port: port)
        let counted = try restarted.get("/hot/todos/count")
        #expect(counted.status == 200 && counted.headers["x-release"] == "1", "\(counted.status) \(counted.body)\n\(app.log())")
        #expect(try currentVersion(scratch) == 0, "the restarted app boots the version it built in")

        // The app's own tests, and one of the hot routes, pass in the test
        // process while the app serves from the same folder.
        let tested = try await offPool {
            try scratch.run(
                "/usr/bin/env", ["swift", "test"], in: scratch.path("todos"),
                environment: postgres.environment.merging(["TMPDIR": scratch.path(".tmp")]) { $1 })
        }
        #expect(tested.status == 0, "\(tested)")
        for test in ["health()", "createThenGet()", "hotCreateThenCount()"] {
            #expect(tested.stdout.contains("Test \(test) passed"), "\(test): \(tested)")
        }

        try await deployUnderLoad(scratch, postgres: postgres, port: port, app: app)
        try await refusals(scratch, port: port)
        try await ownCodeIsPatched(scratch, port: port, app: app)
    }

    /// The app's own code is patched while it serves, as `hot adopt` set it
    /// up: with `hot watch` running, a save of the controller's `list`
    /// (in the app's target) and then of the repository's `list()` (its SQL,
    /// in the TodoStore library) is answered from the new code on one
    /// keep-alive connection, with the database behind it; edited back, each
    /// is patched back.
    private func ownCodeIsPatched(_ scratch: Scratch, port: Int, app: RunningApp) async throws {
        let connection = try KeepAliveConnection(port: port)
        let ids = { @Sendable (body: String) in body.matches(of: /"id":(\d+)/).compactMap { Int($0.1) } }
        let rows = try connection.post("/todos", json: #"{"title":"patched"}"#)
        try #require(rows.status == 201, "\(rows.status) \(rows.body)")
        let newest = try #require(ids(rows.body).first)
        let watch = try WatchProcess(scratch, in: "todos")
        defer { watch.stop() }
        try watch.expect("watching the host's own code (App, TodoStore)")

        let controller = "todos/Sources/App/TodoController.swift"
        let controllerSource = try scratch.read(controller)
        let firstOnly = controllerSource.replacingOccurrences(of: "try await repository.list()\n", with: "Array(try await repository.list().prefix(1))\n")
        try #require(firstOnly != controllerSource)
        try scratch.write(controller, firstOnly)
        try watch.expect("App: 1 function patched  build ")
        let oldest = try connection.get("/todos")
        #expect(oldest.status == 200 && ids(oldest.body).count == 1 && ids(oldest.body)[0] < newest, "\(oldest.body.prefix(300))\n\(watch.output)")

        let repository = "todos/Sources/TodoStore/TodoRepository.swift"
        let repositorySource = try scratch.read(repository)
        let newestFirst = repositorySource.replacingOccurrences(of: "FROM todos ORDER BY id\"", with: "FROM todos ORDER BY id DESC\"")
        try #require(newestFirst != repositorySource)
        try scratch.write(repository, newestFirst)
        try watch.expect("TodoStore: 1 function patched  build ")
        let latest = try connection.get("/todos")
        #expect(latest.status == 200 && ids(latest.body) == [newest], "\(latest.body.prefix(300))\n\(watch.output)\n\(app.log())")

        // Edited back, each is patched back to the code it was built with.
        try scratch.write(repository, repositorySource)
        let deadline = ContinuousClock.now + .seconds(120)
        while watch.count("TodoStore: 1 function patched  build ") < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(ids(try connection.get("/todos").body) == ids(oldest.body), "\(watch.output)")
        try scratch.write(controller, controllerSource)
        while watch.count("App: 1 function patched  build ") < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let status = try scratch.hot(["status"], in: "todos")
        #expect(status.stdout.contains("Sources/TodoStore/TodoRepository.swift:") && status.stdout.contains("Sources/App/TodoController.swift:"), "\(status)")
        #expect(status.stdout.components(separatedBy: "(back to its built code)").count == 3, "\(status)")
        #expect(!watch.output.contains("restart needed"), "\(watch.output)")
    }

    /// `deploys` deploys while `clients` keep-alive connections create todos
    /// through the module and read their count: every answer is 2xx, and
    /// every row a 201 answered for is in the table, no more and no fewer.
    private func deployUnderLoad(_ scratch: Scratch, postgres: PostgresServer, port: Int, app: RunningApp) async throws {
        let created = Mutex<[Int]>([])
        let releases = Mutex<Set<Int>>([])
        let load = try KeepAliveLoad(port: port, clients: Self.clients) { connection, client, n in
            let response = n % 4 == 0 ? try connection.get("/hot/todos/count") : try connection.post("/hot/todos", json: #"{"title":"load-\#(client)-\#(n)"}"#)
            guard (200..<300).contains(response.status), let release = response.headers["x-release"].flatMap({ Int($0) }) else {
                return "\(response.status) \(response.body)"
            }
            releases.withLock { _ = $0.insert(release) }
            guard response.status == 201 else { return nil }
            guard let object = try? parseJSON(response.body) as? [String: Any], let id = object["id"] as? Int else {
                return "a 201 without an id: \(response.body)"
            }
            created.withLock { $0.append(id) }
            return nil
        }
        let path = "todos/modules/routes/routes.swift"
        var source = try scratch.read(path)
        var deployed = 0
        for k in 1...Self.deploys {
            source = source.replacingOccurrences(of: "let release = \(k)\n", with: "let release = \(k + 1)\n")
            try scratch.write(path, source)
            let outcome = try await offPool { try scratch.hot(["deploy"], in: "todos") }
            guard outcome.status == 0 else {
                Issue.record("deploy \(k): \(outcome)\n\(app.log())")
                break
            }
            deployed += 1
        }
        try await Task.sleep(for: .milliseconds(300))
        let failures = try await offPool { load.stop() }

        #expect(deployed == Self.deploys)
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        let ids = created.withLock { $0 }
        #expect(ids.count > Self.deploys * 5, "only \(ids.count) rows written")
        #expect(Set(ids).count == ids.count, "an id answered twice")
        let seen = releases.withLock { $0 }
        #expect(seen.isSubset(of: Set(1...(Self.deploys + 1))) && seen.count > Self.deploys / 2, "releases answered: \(seen.sorted())")
        // v1 was the first deploy's; the loop's are v2 to v51, over the built-in v0.
        #expect(try currentVersion(scratch) == Self.deploys + 1)
        let last = try KeepAliveConnection(port: port).get("/hot/todos/count")
        #expect(last.headers["x-release"] == "\(Self.deploys + 1)", "\(last.headers)")

        // What the table holds, read by psql: every row answered 201, and nothing else.
        let rows = try postgres.psql("SELECT id FROM todos WHERE title LIKE 'load-%' ORDER BY id")
        try #require(rows.status == 0, "\(rows)")
        let stored = rows.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(stored == ids.sorted(), "\(stored.count) rows stored, \(ids.count) answered 201")
    }

    /// A version whose export has another type than the app's handle, and
    /// one without an export the app calls: `hot deploy` refuses each in one
    /// line, and the app answers from the version it had.
    private func refusals(_ scratch: Scratch, port: Int) async throws {
        let path = "todos/modules/routes/routes.swift"
        let source = try scratch.read(path)
        let version = try #require(try currentVersion(scratch))
        let wrongType = source.replacingOccurrences(
            of: "(request: Request, context: BasicRequestContext) async throws -> Response in\n            \"Hello from release \\(release)!\\n\".response(from: request, context: context)",
            with: "(request: Request, context: BasicRequestContext) async throws -> String in\n            \"Hello from release \\(release)!\\n\"")
        try #require(wrongType != source)
        let countStart = try #require(source.range(of: "        .function(\"count\")"))
        let countEnd = try #require(source.range(of: "    ])", range: countStart.upperBound..<source.endIndex))
        let missing = source.replacingCharacters(in: countStart.lowerBound..<countEnd.lowerBound, with: "")
        for (variant, expected) in [
            (wrongType, "export 'hello' is (Request, BasicRequestContext) async throws -> String, the host calls it as (Request, BasicRequestContext) async throws -> Response"),
            (missing, "no export 'count', which the host calls as (Request, BasicRequestContext, TodoRepository) async throws -> Response"),
        ] {
            try scratch.write(path, variant)
            let refused = try await offPool { try scratch.hot(["deploy"], in: "todos") }
            #expect(refused.status != 0, "\(refused)")
            let lines = refused.stderr.split(separator: "\n").filter { $0.contains("routes v") && $0.contains("the node keeps v\(version)") }
            #expect(lines.count == 1 && lines[0].contains(expected), "\(expected)\n\(refused)")
            #expect(try currentVersion(scratch) == version, "the app keeps its version")
            let count = try KeepAliveConnection(port: port).get("/hot/todos/count")
            #expect(count.status == 200 && count.headers["x-release"] == "\(Self.deploys + 1)", "\(count.status) \(count.body)")
        }
        try scratch.write(path, source)
    }

    /// What a user does after adopting: the module gets the todo handlers
    /// and the app's TodoStore library; the app routes /hot/todos to them,
    /// handing over its repository; a test of those routes joins the app's.
    private func moveHandlersIntoModule(_ scratch: Scratch) throws {
        try scratch.write("todos/modules/routes/routes.swift", try String(contentsOfFile: Self.fixture + "/hot/routes.swift", encoding: .utf8))
        try scratch.write(
            "todos/Tests/AppTests/HotRoutesTests.swift", try String(contentsOfFile: Self.fixture + "/hot/HotRoutesTests.swift", encoding: .utf8))
        let manifest = try scratch.read("todos/Package.swift")
        let moduleTarget = #"name: "routes",\#n            dependencies: ["#
        try #require(manifest.contains(moduleTarget), "\(manifest)")
        try scratch.write("todos/Package.swift", manifest.replacingOccurrences(of: moduleTarget, with: moduleTarget + #""TodoStore", "#))
        let build = try scratch.read("todos/Sources/App/Application+build.swift")
        let route = #"router.get("/hot", use: hot.node.handler("routes", "hello"))"#
        try #require(build.contains(route), "\(build)")
        try scratch.write("todos/Sources/App/Application+build.swift", build.replacingOccurrences(of: route, with: route + """

                router.post("/hot/todos", use: hot.node.handler("routes", "create", with: repository))
                router.get("/hot/todos/count", use: hot.node.handler("routes", "count", with: repository))
            """))
    }

    /// The fixture's package, without the files a user writes after adopting it.
    private func copyFixture(to destination: String) throws {
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: destination)
        try FileManager.default.removeItem(atPath: destination + "/hot")
        try ".build/\n".write(toFile: destination + "/.gitignore", atomically: true, encoding: .utf8)
    }

    private func currentVersion(_ scratch: Scratch) throws -> Int? {
        let status = try scratch.hot(["status", "--json"], in: "todos")
        return NodeStatus(document: try #require(try parseJSON(status.stdout) as? [String: Any], "\(status)")).currentVersion("routes")
    }
}
