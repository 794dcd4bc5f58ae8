import Foundation
import Synchronization
import Testing

/// The app of `hot init --template vapor`, built with the real Vapor and run
/// as the node: its handlers, middleware and responder are swapped on a
/// keep-alive connection and then 50 times under load, a purge cancels a
/// request in flight, a wrongly typed export is refused, the app's own code
/// is patched by `hot watch`, and `hot stop` ends the app. Then a Vapor app
/// nobody made for Hot is adopted, built, tested and deployed into.
@Suite("Vapor app", .serialized)
struct VaporAppTests {
    static let deploys = 50
    static let clients = 4

    /// A release a client saw (the handler's in the body, the middleware's
    /// in a header), with when its request was sent and answered.
    struct Answer {
        let sent: ContinuousClock.Instant
        let answered: ContinuousClock.Instant
        let release: Int
    }

    @Test("the app serves its built-in routes, swaps them under keep-alive load with zero failed requests, and ends with hot stop")
    func deployAndStop() async throws {
        let scratch = try Scratch()
        let app = RunningApp()
        defer {
            app.stop()
            scratch.close()
        }
        let made = try scratch.hot(["init", "app", "--template", "vapor"], in: "")
        try #require(made.status == 0, "\(made)")
        let built = try await offPool { try scratch.swiftBuild(["--product", "Server"], in: "app") }
        try #require(built.status == 0, "\(built)")

        // No `hot build`: the app boots the routes module built into it.
        let port = Int(try freeLoopbackPort())
        try await offPool { try app.start(in: scratch.path("app"), port: port) }
        let connection = try KeepAliveConnection(port: port)
        let hello = try connection.get("/hello/bob")
        try #require(hello.status == 200, "\(hello.body)\n\(app.log())")
        #expect(hello.body == #"{"message":"Hello, bob!","release":1}"#, "the README's answer, keys in order: \(hello.body)")
        #expect(hello.headers["x-release"] == "1", "the middleware stamps its release: \(hello.headers)")
        #expect(try connection.get("/count").body.contains("\"1 hits\""))
        #expect(try connection.get("/count").body.contains("\"2 hits\""))
        let api = try connection.get("/api/version")
        #expect(api.status == 200 && api.body.contains("\"release\":1"), "the responder answers under /api: \(api.status) \(api.body)")
        #expect(try connection.get("/api/nothing").status == 404)
        let signed = try connection.post("/sign/ann")
        #expect(signed.status == 200 && signed.body.contains("ann signed; 1 names so far"), "\(signed.status) \(signed.body)")
        let status = try scratch.hot(["status"])
        #expect(status.stdout.contains("current v0 (built in)"), "\(status)")

        // The app's own tests (of the template's code) pass in-process while
        // the app serves from the same folder, and the app serves on.
        let tested = try await offPool {
            try scratch.run("/usr/bin/env", ["swift", "test"], in: scratch.path("app"), environment: ["TMPDIR": scratch.path(".tmp")])
        }
        #expect(tested.status == 0, "\(tested)")
        for test in ["hello()", "sign()", "api()"] {
            #expect(tested.stdout.contains("Test \(test) passed"), "\(test): \(tested)")
        }
        #expect(try connection.get("/hello/bob").status == 200, "the app still serves: \(app.log())")

        let path = "app/modules/routes/routes.swift"
        let source = try scratch.read(path)
        let changed = source.replacingOccurrences(of: "let release = 1\n", with: "let release = 2\n")
            .replacingOccurrences(of: "Hello, ", with: "Welcome back, ")
        try #require(changed != source)
        try scratch.write(path, changed)
        let deployed = try await offPool { try scratch.hot(["deploy"]) }
        try #require(deployed.status == 0, "\(deployed)\n\(app.log())")
        #expect(deployed.stdout.contains("routes v0 -> v1"), "\(deployed)")

        // The same connection, the new code: handler, middleware, responder;
        // the counter server's state and the app's guestbook carried over.
        let again = try connection.get("/hello/bob")
        #expect(again.status == 200 && again.body.contains("Welcome back, bob!") && again.body.contains("\"release\":2"), "\(again.body)")
        #expect(again.headers["x-release"] == "2", "\(again.headers)")
        #expect(try connection.get("/api/version").body.contains("\"release\":2"))
        let count = try connection.get("/count")
        #expect(count.body.contains("\"3 hits\"") && count.body.contains("\"release\":2"), "\(count.body)")
        #expect(try connection.post("/sign/bob").body.contains("bob signed; 2 names so far"))

        try await swapUnderLoad(scratch, port: port, app: app)
        try purgeCancelsSlowRequest(scratch, port: port, release: Self.deploys + 2)
        try wrongTypedExportIsRefused(scratch, port: port)
        try missingPackageIsRefused(scratch)
        try await hostCodeIsPatched(scratch, port: port, app: app)
        try failedHandleAnswersItsReason(scratch, port: port, app: app)

        let stopped = try scratch.hot(["stop"])
        #expect(stopped.status == 0, "\(stopped)")
        #expect(app.exitStatus(within: .seconds(30)) == 0, "hot stop ends the app, with status 0: \(app.log())")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.sock")))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.pid")))

        try await adoptedApp(scratch)
    }

    /// A Vapor app of the shape `vapor new` gives, with a model, a store, a
    /// controller and its own tests (Tests/Fixtures/VaporNotesApp), is made
    /// a host by `hot adopt --apply`, built by SwiftPM alone, passes its own
    /// tests, serves the module's route beside its own, takes a deploy on
    /// the same connection with its notes kept, and ends with `hot stop`.
    ///
    /// It is built in the folder the template app was built in, with that
    /// build's `.build`: the same paths and the same packages, so SwiftPM
    /// builds Vapor once for both.
    private func adoptedApp(_ scratch: Scratch) async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/VaporNotesApp").path
        let files = FileManager.default
        try files.moveItem(atPath: scratch.path("app"), toPath: scratch.path("template"))
        try files.copyItem(atPath: fixture, toPath: scratch.path("app"))
        try files.moveItem(atPath: scratch.path("template/.build"), toPath: scratch.path("app/.build"))
        try files.removeItem(atPath: scratch.path("template"))
        try ".build/\n".write(toFile: scratch.path("app/.gitignore"), atomically: true, encoding: .utf8)
        let repository = try scratch.run("/usr/bin/env", ["git", "init", "-q"], in: scratch.path("app"))
        try #require(repository.status == 0, "\(repository)")

        let adopted = try scratch.hot(["adopt", "--apply"])
        try #require(adopted.status == 0, "\(adopted)")
        #expect(adopted.stdout.contains(#"traits: ["Vapor"]"#) && adopted.stdout.contains("HotNodeLifecycle.project()"), "\(adopted)")
        let again = try scratch.hot(["adopt"])
        #expect(again.status == 0 && again.stdout.contains("nothing to do"), "\(again)")
        // The app's own tests, and one of the hot route, in-process.
        try scratch.write(
            "app/Tests/AppTests/HotRouteTests.swift",
            """
            @testable import App
            import Testing
            import VaporTesting

            @Test("the module's route answers in-process")
            func hotRoute() async throws {
                try await withApp(configure: configure) { app in
                    try await app.testing().test(.GET, "hot") { response async in
                        #expect(response.body.string == "Hello from the hot module routes!\\n")
                    }
                }
            }

            """)
        let building = ContinuousClock.now
        let built = try await offPool { try scratch.swiftBuild(["--product", "App"], in: "app") }
        try #require(built.status == 0, "\(built)")
        // Vapor's build is the template's: this builds the app's own targets and Hot's adapter.
        print("the adopted Vapor app built in \(ContinuousClock.now - building)")
        let tested = try await offPool {
            try scratch.run("/usr/bin/env", ["swift", "test"], in: scratch.path("app"), environment: ["TMPDIR": scratch.path(".tmp")])
        }
        #expect(tested.status == 0, "\(tested)")
        for test in ["\"it works\"", "\"a note written is listed\"", "\"the module's route answers in-process\""] {
            #expect(tested.stdout.contains("Test \(test) passed"), "\(test): \(tested)")
        }

        let app = RunningApp()
        defer { app.stop() }
        let port = Int(try freeLoopbackPort())
        try await offPool { try app.start(in: scratch.path("app"), port: port, executable: "App", ready: "/") }
        let connection = try KeepAliveConnection(port: port)
        let hello = try connection.get("/hot")
        #expect(hello.status == 200 && hello.body == "Hello from the hot module routes!\n", "\(hello.body)\n\(app.log())")
        let note = try connection.post("/notes", json: #"{"text":"milk"}"#)
        #expect(note.status == 200 && note.body.contains(#""id":1"#), "\(note.status) \(note.body)")

        let module = "app/modules/routes/routes.swift"
        try scratch.write(module, try scratch.read(module).replacingOccurrences(of: "Hello from the hot module", with: "Hi from the hot module"))
        let deployed = try await offPool { try scratch.hot(["deploy"]) }
        try #require(deployed.status == 0, "\(deployed)\n\(app.log())")
        #expect(deployed.stdout.contains("routes v0 -> v1"), "\(deployed)")
        #expect(try connection.get("/hot").body == "Hi from the hot module routes!\n")
        let notes = try connection.get("/notes")
        #expect(notes.status == 200 && notes.body.contains(#""text":"milk""#), "the app's own state is kept: \(notes.body)")

        let stopped = try scratch.hot(["stop"])
        #expect(stopped.status == 0, "\(stopped)")
        #expect(app.exitStatus(within: .seconds(30)) == 0, "hot stop ends the adopted app: \(app.log())")
    }

    /// The app's guestbook reaches `sign` on every request
    /// (`node.handler("routes", "sign", with: guestbook)`); a version whose
    /// `sign` has another type is refused by `hot deploy` in one line, and
    /// the app answers from the version it runs.
    private func wrongTypedExportIsRefused(_ scratch: Scratch, port: Int) throws {
        let path = "app/modules/routes/routes.swift"
        let source = try scratch.read(path)
        // `sign` now answers a Greeting, not a Response.
        let other = source.replacingOccurrences(
            of: "guestbook: Guestbook) async throws -> Response in", with: "guestbook: Guestbook) async throws -> Greeting in"
        ).replacingOccurrences(of: "\n                .encodeResponse(for: request)", with: "")
        try #require(other != source)
        try scratch.write(path, other)
        let deployed = try scratch.hot(["deploy"])
        #expect(deployed.status != 0, "\(deployed)")
        let lines = deployed.stderr.split(separator: "\n").filter { $0.contains("export 'sign' is") }
        #expect(lines.count == 1, "\(deployed)")
        #expect(
            lines.first.map { $0.contains("Guestbook) async throws -> Greeting, the host calls it as (Request, Guestbook) async throws -> Response; the node keeps v") } == true,
            "\(deployed)")
        try scratch.write(path, source)
        let signed = try KeepAliveConnection(port: port).post("/sign/cy")
        #expect(signed.status == 200 && signed.body.contains("cy signed; 3 names so far"), "\(signed.status) \(signed.body)")
    }

    /// The app's own code is patched while it serves: with `hot watch`
    /// running, a save of `hostGreeting()` (what GET /host answers) is
    /// answered from the new code on the same connection, with no restart,
    /// and the code saved back is patched back.
    private func hostCodeIsPatched(_ scratch: Scratch, port: Int, app: RunningApp) async throws {
        let connection = try KeepAliveConnection(port: port)
        let watch = try WatchProcess(scratch)
        defer { watch.stop() }
        let (greeting, original) = try watch.patchHostGreeting(scratch, on: connection, app: app)
        try scratch.write(greeting, original)
        let deadline = ContinuousClock.now + .seconds(120)
        while watch.count("App: 1 function patched  build ") < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try connection.get("/host").body == "Hello from the app's own code", "\(watch.output)")
    }

    /// Keep-alive clients send requests without pause while `deploys`
    /// versions of the routes module are loaded, from release 2 on: no
    /// request fails, each answer comes from a release current at some
    /// moment of its request, and the counter server's hits go on from 3
    /// with none repeated or lost.
    private func swapUnderLoad(_ scratch: Scratch, port: Int, app: RunningApp) async throws {
        // Release r becomes current during the deploy that `began[r]` starts
        // and stops being current during the one that `ended[r]` ends.
        let began = Mutex<[Int: ContinuousClock.Instant]>([2: .now])
        let ended = Mutex<[Int: ContinuousClock.Instant]>([:])
        let answers = Mutex<[Answer]>([])
        let hits = Mutex<[Int]>([])
        let load = try KeepAliveLoad(port: port, clients: Self.clients) { connection, client, n in
            let path = n % 5 == 0 ? "/count" : "/hello/c\(client)"
            let sent = ContinuousClock.now
            let response = try connection.get(path)
            let answered = ContinuousClock.now
            guard response.status == 200, let document = try? parseJSON(response.body) as? [String: Any],
                let release = document["release"] as? Int, let message = document["message"] as? String
            else { return "\(path): \(response.status) \(response.body)" }
            guard let stamp = response.headers["x-release"].flatMap({ Int($0) }) else { return "\(path): no x-release header" }
            answers.withLock {
                $0.append(Answer(sent: sent, answered: answered, release: release))
                $0.append(Answer(sent: sent, answered: answered, release: stamp))
            }
            if path == "/count" {
                guard let count = Int(message.dropLast(5)), message.hasSuffix(" hits") else { return "\(path): \(message)" }
                hits.withLock { $0.append(count) }
            }
            return nil
        }
        let path = "app/modules/routes/routes.swift"
        var source = try scratch.read(path)
        for k in 1...Self.deploys {
            source = source.replacingOccurrences(of: "let release = \(k + 1)\n", with: "let release = \(k + 2)\n")
            try scratch.write(path, source)
            began.withLock { $0[k + 2] = .now }
            let deployed = try await offPool { try scratch.hot(["deploy"]) }
            ended.withLock { $0[k + 1] = .now }
            guard deployed.status == 0 else {
                _ = try await offPool { load.stop() }
                Issue.record("deploy \(k): \(deployed)\n\(app.log())")
                return
            }
            #expect(deployed.stdout.contains("routes v\(k) -> v\(k + 1)"), "\(deployed)")
        }
        // A moment of load on the last release too.
        try await Task.sleep(for: .milliseconds(300))
        let failures = try await offPool { load.stop() }

        #expect(failures.isEmpty, "\(failures.prefix(10))")
        let all = answers.withLock { $0 }
        #expect(all.count > Self.deploys * 10, "only \(all.count) answers")
        let (starts, ends) = (began.withLock { $0 }, ended.withLock { $0 })
        let stale = all.filter { answer in
            let becameCurrent = starts[answer.release] ?? .now
            let leftCurrent = ends[answer.release]
            return becameCurrent > answer.answered || leftCurrent.map { $0 < answer.sent } == true
        }
        #expect(stale.isEmpty, "\(stale.count) answers from a release not current during their request: \(stale.prefix(5).map(\.release))")
        #expect(Set(all.map(\.release)).count > Self.deploys / 2, "answers came from too few releases")
        let counted = hits.withLock { $0 }.sorted()
        #expect(!counted.isEmpty)
        #expect(counted == Array(4..<(4 + counted.count)), "hits: \(counted.prefix(20))…")
        let status = try scratch.hot(["status", "--json"])
        let document = try #require(try parseJSON(status.stdout) as? [String: Any])
        #expect(NodeStatus(document: document).currentVersion("routes") == Self.deploys + 1, "\(status)")
    }

    /// A module importing a package the app does not link is refused by
    /// `hot build`, naming it.
    private func missingPackageIsRefused(_ scratch: Scratch) throws {
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/extra"), withIntermediateDirectories: true)
        try scratch.write("app/modules/extra/extra.swift", "import Hot\nimport Hummingbird\nlet module = HotModule(exports: [])\n")
        let built = try scratch.hot(["build", "extra"])
        #expect(built.status != 0, "\(built)")
        #expect(built.stderr.contains("Hummingbird"), "\(built)")
        try FileManager.default.removeItem(atPath: scratch.path("app/modules/extra"))
    }

    /// A slow request runs in its version after a deploy; a purge of that
    /// version cancels it and counts it.
    private func purgeCancelsSlowRequest(_ scratch: Scratch, port: Int, release: Int) throws {
        let slowEnded = Mutex<(ContinuousClock.Instant, KeepAliveConnection.Response?)?>(nil)
        let started = ContinuousClock.now
        let connection = try KeepAliveConnection(port: port)
        Thread.detachNewThread {
            let response = try? connection.get("/slow/60000")
            slowEnded.withLock { $0 = (ContinuousClock.now, response) }
        }
        // In flight in the current version as two calls: the middleware's
        // and, inside it, the handler's. No event says so: ask the node.
        var inFlight = 0
        for _ in 0..<200 {
            inFlight = calls(try scratch.hot(["status", "--json"]), "current")
            if inFlight >= 2 { break }
            usleep(50_000)
        }
        try #require(inFlight == 2, "the slow request never showed as two calls in flight (\(inFlight))")
        let path = "app/modules/routes/routes.swift"
        let source = try scratch.read(path)
        try scratch.write(path, source.replacingOccurrences(of: "let release = \(release)\n", with: "let release = \(release + 1)\n"))
        let deployed = try scratch.hot(["deploy"])
        try #require(deployed.status == 0, "\(deployed)")
        #expect(calls(try scratch.hot(["status", "--json"]), "old") == 2, "the slow request stays in flight in the old version")

        let purged = try scratch.hot(["purge", "routes", "--json"])
        #expect(purged.status == 0, "\(purged)")
        #expect((try parseJSON(purged.stdout) as? [String: Any])?["cancelledCalls"] as? Int == 2, "\(purged.stdout)")
        for _ in 0..<200 where slowEnded.withLock({ $0 }) == nil { usleep(50_000) }
        let ended = try #require(slowEnded.withLock { $0 }, "the cancelled request never ended")
        #expect(ended.0 - started < .seconds(30), "the slow request ran to its end instead of being cancelled")
        #expect(ended.1?.status != 200, "a cancelled request must not answer 200")
    }

    /// With its module deleted, a route's handle cannot call its export: the
    /// debug app answers 500 with the reason, and logs it at error level.
    private func failedHandleAnswersItsReason(_ scratch: Scratch, port: Int, app: RunningApp) throws {
        let deleted = try scratch.hot(["delete", "routes"])
        try #require(deleted.status == 0, "\(deleted)")
        let answer = try KeepAliveConnection(port: port).get("/hello/bob")
        #expect(answer.status == 500, "\(answer.status) \(answer.body)")
        #expect(answer.body.contains("hot: undefined: module 'routes' is not loaded"), "\(answer.body)")
        #expect(app.log().contains("a call through the handle on routes:"), "\(app.log())")
    }

    /// The calls in flight in the routes module's `which` version ("current" or "old").
    private func calls(_ status: Outcome, _ which: String) -> Int {
        guard let document = try? parseJSON(status.stdout) as? [String: Any] else { return 0 }
        return (NodeStatus(document: document).module("routes")?[which] as? [String: Any])?["calls"] as? Int ?? 0
    }
}
