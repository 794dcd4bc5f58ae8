import Foundation
import Synchronization
import Testing

/// The app of `hot init --template hummingbird`, built with the real
/// Hummingbird and run as the node: its route handlers and middleware are
/// swapped while keep-alive clients send requests without pause.
@Suite("Hummingbird app", .serialized)
struct HummingbirdAppTests {
    static let deploys = 50
    static let clients = 4

    /// One release a client saw (the handler's in the body, the middleware's
    /// in a header), with when its request was sent and answered.
    struct Answer {
        let sent: Double
        let answered: Double
        let release: Int
        let hits: Int?
    }

    @Test("the app swaps its handlers under load with zero failed requests")
    func swapUnderLoad() async throws {
        let scratch = try Scratch()
        let app = RunningApp()
        defer {
            app.stop()
            scratch.close()
        }
        let made = try scratch.hot(["init", "app", "--template", "hummingbird"], in: "")
        try #require(made.status == 0, "\(made)")
        try #require(try scratch.read("app/hot.json").contains("\"host\""))
        let built = try await offPool { try scratch.swiftBuild(["--product", "Server"], in: "app") }
        try #require(built.status == 0, "\(built)")

        // The routes module's first version, which the app boots.
        let first = try await offPool { try scratch.hot(["build"]) }
        try #require(first.status == 0, "\(first)")
        #expect(first.stdout.contains("built routes v1"), "\(first)")

        let port = Int(try freeLoopbackPort())
        try await offPool { try app.start(in: scratch.path("app"), port: port) }
        let hello = try KeepAliveConnection(port: port).get("/hello/bob")
        try #require(hello.status == 200, "\(hello.body)\n\(app.log())")
        #expect(hello.body.contains("Hello, bob!") && hello.body.contains("\"release\":1"), "\(hello.body)")

        // Deploy k (1-based) makes release k + 1 current; `begun[k]` and
        // `ended[k]` bracket its `hot deploy`. Release r is current from some
        // moment of deploy r - 1 to some moment of deploy r.
        let begun = Mutex<[Int: Double]>([:])
        let ended = Mutex<[Int: Double]>([:])
        let answers = Mutex<[Answer]>([])
        let load = try KeepAliveLoad(port: port, clients: Self.clients) { connection, client, n in
            let path = n % 5 == 0 ? "/count" : "/hello/c\(client)"
            let sent = Date().timeIntervalSince1970
            let response = try connection.get(path)
            let answered = Date().timeIntervalSince1970
            guard response.status == 200, let greeting = Greeting(response.body) else { return "\(path): \(response.status) \(response.body)" }
            // The middleware stamps the answer with its own release.
            guard let stamp = response.headers["x-release"].flatMap({ Int($0) }) else { return "\(path): no x-release header" }
            answers.withLock {
                $0.append(Answer(sent: sent, answered: answered, release: greeting.release, hits: path == "/count" ? greeting.hits : nil))
                $0.append(Answer(sent: sent, answered: answered, release: stamp, hits: nil))
            }
            return nil
        }
        var source = try scratch.read("app/modules/routes/routes.swift")
        for k in 1...Self.deploys {
            source = source.replacingOccurrences(of: "let release = \(k)\n", with: "let release = \(k + 1)\n")
            try scratch.write("app/modules/routes/routes.swift", source)
            begun.withLock { $0[k] = Date().timeIntervalSince1970 }
            let deployed = try await offPool { try scratch.hot(["deploy"]) }
            ended.withLock { $0[k] = Date().timeIntervalSince1970 }
            try #require(deployed.status == 0, "deploy \(k): \(deployed)\n\(app.log())")
            #expect(deployed.stdout.contains("routes v\(k) -> v\(k + 1)"), "\(deployed)")
        }
        // A moment of load on the last release too.
        try await Task.sleep(for: .milliseconds(300))
        let failures = try await offPool { load.stop() }

        #expect(failures.isEmpty, "\(failures.prefix(10))")
        let all = answers.withLock { $0 }
        #expect(all.count > Self.deploys * 10, "only \(all.count) answers")
        let (starts, ends) = (begun.withLock { $0 }, ended.withLock { $0 })
        var stale: [String] = []
        for answer in all {
            // Release r could answer only if deploy r - 1 had begun before the
            // request was answered, and deploy r had not ended before it was sent.
            let becameCurrent = answer.release == 1 ? 0 : starts[answer.release - 1] ?? .infinity
            let leftCurrent = ends[answer.release] ?? .infinity
            if becameCurrent > answer.answered || leftCurrent < answer.sent { stale.append("release \(answer.release)") }
        }
        #expect(stale.isEmpty, "\(stale.count) answers from a release not current during their request: \(stale.prefix(5))")
        #expect(Set(all.map(\.release)).count > Self.deploys / 2, "answers came from too few releases")
        // The counter server kept its state across every load: the hits are
        // exactly 1, 2, 3, … with none repeated and none lost.
        let hits = all.compactMap(\.hits).sorted()
        #expect(!hits.isEmpty)
        #expect(hits == Array(1...max(1, hits.count)), "hits: \(hits.prefix(20))…")

        let status = try scratch.hot(["status", "--json"], in: "app")
        let routes = try #require(try module("routes", in: status.stdout))
        #expect((routes["current"] as? [String: Any])?["version"] as? Int == Self.deploys + 1)

        try purgeCancelsSlowRequest(scratch, port: port, release: Self.deploys + 1)
        try objectReachesHandler(scratch, port: port)
        try missingPackageIsRefused(scratch)
        try await hostCodeIsPatched(scratch, port: port, app: app)
        try await rebuiltHostIsBuiltFor(scratch, port: port, app: app)
        try await appTestsPassInProcess(scratch, port: port, app: app)
        try failedHandleAnswersItsReason(scratch, port: port, app: app)
    }

    /// The app's own guestbook reaches the `sign` handler on every request
    /// (`node.handler("routes", "sign", with: guestbook)`); a version whose
    /// `sign` has another type is refused by `hot deploy` in one line, and
    /// the app answers from the version it runs.
    private func objectReachesHandler(_ scratch: Scratch, port: Int) throws {
        let connection = try KeepAliveConnection(port: port)
        let first = try connection.post("/sign/ann")
        #expect(first.status == 200 && first.body.contains("ann signed; 1 names so far"), "\(first.status) \(first.body)")
        let source = try scratch.read("app/modules/routes/routes.swift")
        // `sign` now answers a Greeting, not a Response.
        let other = source.replacingOccurrences(
            of: "guestbook: Guestbook) async throws -> Response in", with: "guestbook: Guestbook) async throws -> Greeting in"
        ).replacingOccurrences(of: "\n                .response(from: request, context: context)", with: "")
        try #require(other != source)
        try scratch.write("app/modules/routes/routes.swift", other)
        let deployed = try scratch.hot(["deploy"])
        #expect(deployed.status != 0, "\(deployed)")
        let lines = deployed.stderr.split(separator: "\n").filter { $0.contains("export 'sign' is") }
        #expect(lines.count == 1, "\(deployed)")
        #expect(
            lines.first.map { $0.contains("Guestbook) async throws -> Greeting, the host calls it as (Request, ") && $0.contains("Guestbook) async throws -> Response; the node keeps v") } == true,
            "\(deployed)")
        try scratch.write("app/modules/routes/routes.swift", source)
        let second = try connection.post("/sign/bob")
        #expect(second.status == 200 && second.body.contains("bob signed; 2 names so far"), "\(second.status) \(second.body)")
    }

    /// With its module deleted, a route's handle cannot call its export:
    /// the debug app answers 500 with the reason, and logs it at error level.
    private func failedHandleAnswersItsReason(_ scratch: Scratch, port: Int, app: RunningApp) throws {
        let deleted = try scratch.hot(["delete", "routes"])
        try #require(deleted.status == 0, "\(deleted)")
        let answer = try KeepAliveConnection(port: port).get("/hello/bob")
        #expect(answer.status == 500, "\(answer.status) \(answer.body)")
        #expect(answer.body.contains("hot: undefined: module 'routes' is not loaded"), "\(answer.body)")
        #expect(app.log().contains("a call through the handle on routes:"), "\(app.log())")
    }

    /// A slow request runs in its version after a deploy; a purge of that
    /// version cancels it and counts it.
    private func purgeCancelsSlowRequest(_ scratch: Scratch, port: Int, release: Int) throws {
        let slowEnded = Mutex<(Double, KeepAliveConnection.Response?)?>(nil)
        let started = Date().timeIntervalSince1970
        let connection = try KeepAliveConnection(port: port)
        Thread.detachNewThread {
            let response = try? connection.get("/slow/60000")
            slowEnded.withLock { $0 = (Date().timeIntervalSince1970, response) }
        }
        // Wait for the request to be in flight in the current version: two
        // calls, the middleware's and, inside it, the handler's.
        var inFlight = 0
        for _ in 0..<100 {
            let status = try scratch.hot(["status", "--json"])
            inFlight = ((try module("routes", in: status.stdout))?["current"] as? [String: Any])?["calls"] as? Int ?? 0
            if inFlight >= 2 { break }
            usleep(50_000)
        }
        try #require(inFlight == 2, "the slow request never showed as two calls in flight (\(inFlight))")
        var source = try scratch.read("app/modules/routes/routes.swift")
        source = source.replacingOccurrences(of: "let release = \(release)\n", with: "let release = \(release + 1)\n")
        try scratch.write("app/modules/routes/routes.swift", source)
        try #require(try scratch.hot(["deploy"]).status == 0)
        let status = try scratch.hot(["status", "--json"])
        let routes = try #require(try module("routes", in: status.stdout))
        let old = routes["old"] as? [String: Any]
        #expect(old?["calls"] as? Int == 2, "the slow request stays in flight in the old version: \(status.stdout)")

        let purged = try scratch.hot(["purge", "routes", "--json"])
        #expect(purged.status == 0, "\(purged)")
        let document = try parseJSON(purged.stdout) as? [String: Any]
        #expect(document?["cancelledCalls"] as? Int == 2, "\(purged.stdout)")
        for _ in 0..<200 where slowEnded.withLock({ $0 }) == nil { usleep(50_000) }
        let ended = try #require(slowEnded.withLock { $0 }, "the cancelled request never ended")
        #expect(ended.0 - started < 30, "the slow request ran to its end instead of being cancelled")
        #expect(ended.1?.status != 200, "a cancelled request must not answer 200")
    }

    /// A module importing a package the app does not link is refused by `hot build`, naming it.
    private func missingPackageIsRefused(_ scratch: Scratch) throws {
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/extra"), withIntermediateDirectories: true)
        try scratch.write("app/modules/extra/extra.swift", """
            import Hot
            import AsyncHTTPClient
            let module = HotModule(exports: [])
            """)
        let built = try scratch.hot(["build", "extra"])
        #expect(built.status != 0)
        #expect(built.stderr.contains("AsyncHTTPClient"), "\(built)")
        try FileManager.default.removeItem(atPath: scratch.path("app/modules/extra"))
    }

    /// The app's own code is patched while it serves: with `hot watch`
    /// running, a save of `hostGreeting()` (what GET /host answers) is
    /// answered from the new code on the same connection, with no restart;
    /// an edit to the closure `buildApplication` registers for the route is
    /// refused as restart-needed, with the fix; the code edited back is
    /// patched back.
    private func hostCodeIsPatched(_ scratch: Scratch, port: Int, app: RunningApp) async throws {
        let connection = try KeepAliveConnection(port: port)
        let watch = try WatchProcess(scratch)
        defer { watch.stop() }
        let (greeting, original) = try watch.patchHostGreeting(scratch, on: connection, app: app)

        let builder = "app/Sources/App/App.swift"
        let registration = try scratch.read(builder)
        try scratch.write(builder, registration.replacingOccurrences(of: "{ _, _ in hostGreeting() }", with: "{ _, _ in hostGreeting() + \"!\" }"))
        try watch.expect("nothing of this save was loaded")
        #expect(watch.output.contains("restart needed: buildApplication(port:hot:) registers routes"), "\(watch.output)")
        #expect(watch.output.contains("a handler that is a method (`use: controller.list`) or that calls a function is patched live"))
        #expect(try connection.get("/host").body == "Patched into the app's own code")
        try scratch.write(builder, registration)
        try scratch.write(greeting, original)
        let deadline = Date().addingTimeInterval(120)
        while watch.count("App: 1 function patched  build ") < 2, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try connection.get("/host").body == "Hello from the app's own code", "\(watch.output)")
        let status = try scratch.hot(["status"])
        #expect(status.stdout.contains("Sources/App/HostGreeting.swift:4 hostGreeting()"), "\(status)")
        #expect(status.stdout.contains("(back to its built code)"), "\(status)")
    }

    /// After the app is rebuilt (but not restarted), `hot deploy` compiles
    /// against the build the app still runs, which `hot build` kept, and
    /// the app takes the new version. With that build not kept, the deploy
    /// is refused in one line that says to restart the app, and the app
    /// keeps its version.
    private func rebuiltHostIsBuiltFor(_ scratch: Scratch, port: Int, app: RunningApp) async throws {
        let shared = try scratch.read("app/Sources/Shared/Shared.swift")
        try scratch.write("app/Sources/Shared/Shared.swift", shared + "\npublic let rebuiltMarker = 1\n")
        let rebuilt = try await offPool { try scratch.swiftBuild(["--product", "Server"], in: "app") }
        try #require(rebuilt.status == 0, "\(rebuilt)")
        let path = "app/modules/routes/routes.swift"
        var source = try scratch.read(path)
        let release = try #require(source.firstMatch(of: /let release = (\d+)\n/).flatMap { Int($0.1) })
        source = source.replacingOccurrences(of: "let release = \(release)\n", with: "let release = \(release + 1)\n")
        try scratch.write(path, source)
        let deployed = try await offPool { try scratch.hot(["deploy"]) }
        #expect(deployed.status == 0, "\(deployed)\n\(app.log())")
        #expect(deployed.stderr.contains("runs another build of the host"), "\(deployed)")
        let hello = try KeepAliveConnection(port: port).get("/hello/bob")
        #expect(hello.status == 200 && hello.body.contains("\"release\":\(release + 1)"), "\(hello.body)")

        let status = NodeStatus(document: try #require(try parseJSON(try scratch.hot(["status", "--json"]).stdout) as? [String: Any]))
        let running = try #require(status.document["host"] as? String)
        let version = status.currentVersion("routes")
        try FileManager.default.removeItem(atPath: scratch.path("app/.hot/host/builds/" + running))
        try scratch.write(path, source.replacingOccurrences(of: "let release = \(release + 1)\n", with: "let release = \(release + 2)\n"))
        let refused = try scratch.hot(["deploy"])
        #expect(refused.status != 0, "\(refused)")
        let lines = refused.stderr.split(separator: "\n").filter { $0.contains("that hot did not keep") }
        #expect(lines.count == 1 && lines[0].contains("restart the app (`swift run Server`)"), "\(refused)")
        let after = (try module("routes", in: try scratch.hot(["status", "--json"]).stdout))?["current"] as? [String: Any]
        #expect(version != nil && after?["version"] as? Int == version, "the app kept its version")
        try scratch.write(path, source)
    }

    /// The app's own tests (`swift test`, HummingbirdTesting's `.router`)
    /// pass in-process while the app serves from the same folder: no clash
    /// on its socket, no trial that re-runs the test bundle, and a test that
    /// loads the version `hot build` made is not refused for its host build.
    private func appTestsPassInProcess(_ scratch: Scratch, port: Int, app: RunningApp) async throws {
        let extra = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/HummingbirdApp/HotVersionTests.swift").path
        try scratch.write("app/Tests/AppTests/HotVersionTests.swift", try String(contentsOfFile: extra, encoding: .utf8))
        let tested = try await offPool {
            try scratch.run("/usr/bin/env", ["swift", "test"], in: scratch.path("app"), environment: ["TMPDIR": scratch.path(".tmp")])
        }
        #expect(tested.status == 0, "\(tested)")
        for test in ["hello()", "sign()", "count()", "hotVersion()"] {
            #expect(tested.stdout.contains("Test \(test) passed"), "\(test): \(tested)")
        }
        #expect(!(tested.stdout + tested.stderr).contains("Address already in use"), "\(tested)")
        let hello = try KeepAliveConnection(port: port).get("/hello/bob")
        #expect(hello.status == 200, "the app still serves: \(hello.body)\n\(app.log())")
        #expect(FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.sock")), "the app's socket is still there")
    }

    private func module(_ name: String, in status: String) throws -> [String: Any]? {
        let document = try parseJSON(status) as? [String: Any]
        return (document?["modules"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }
}

/// What the template's routes answer.
private struct Greeting {
    let release: Int
    let hits: Int?

    init?(_ body: String) {
        guard let object = try? parseJSON(body) as? [String: Any], let release = object["release"] as? Int,
            let message = object["message"] as? String
        else { return nil }
        self.release = release
        self.hits = message.hasSuffix(" hits") ? Int(message.dropLast(5)) : nil
    }
}

/// The template's app, running; `stop()` ends it whatever happened.
final class RunningApp: @unchecked Sendable {
    private var process: Foundation.Process?
    private var logPath = ""

    /// Runs `folder`/.build/debug/`executable` with `arguments`, PORT and
    /// `environment` set, and waits until it answers GET `ready` with 200.
    func start(
        in folder: String, port: Int, executable: String = "Server", arguments: [String] = [], environment: [String: String] = [:], ready: String = "/health"
    ) throws {
        logPath = folder + "/.hot/app.log"
        try FileManager.default.createDirectory(atPath: folder + "/.hot", withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw AppFailure(log: "cannot create \(logPath)") }
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: folder + "/.build/debug/" + executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["PORT": "\(port)"]) { $1 }) { $1 }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<600 {
            if let answer = try? KeepAliveConnection(port: port, timeout: 5).get(ready), answer.status == 200 { return }
            guard process.isRunning else { throw AppFailure(log: log()) }
            usleep(100_000)
        }
        throw AppFailure(log: log())
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The app's exit status once it has ended on its own, or nil if it is
    /// still running after `deadline`.
    func exitStatus(within deadline: Duration) -> Int32? {
        guard let process else { return nil }
        let end = ContinuousClock.now + deadline
        // Foundation's Process offers no wait with a deadline; poll its state.
        while process.isRunning, ContinuousClock.now < end { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    struct AppFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "the app did not come up:\n\(log)" }
    }
}
