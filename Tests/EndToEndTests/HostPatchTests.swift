import Foundation
import Synchronization
import Testing

/// `hot watch` patching a host's own code while it serves: the plain
/// executable of Tests/Fixtures/PatchHost (a line server whose handlers are
/// its own methods), built with the real SwiftPM in a temporary folder.
@Suite("Patching a host's own code", .serialized)
struct HostPatchTests {
    static let patches = 50

    @Test("methods, a free function, a computed property, private and static members and a closure in a handler are patched live; what cannot be is said")
    func plainHost() async throws {
        let scratch = try Scratch()
        let shop = ShopProcess()
        defer {
            shop.stop()
            scratch.close()
        }
        try Self.writeShop(scratch)
        let built = try await offPool { try scratch.swiftBuild(in: "app") }
        try #require(built.status == 0, "\(built)")
        let port = try freeLoopbackPort()
        try await offPool { try shop.start(in: scratch.path("app"), port: port) }
        let client = try LineClient(port: port)
        #expect(try client.ask("greet bob") == "Hello, bob! | v1")

        let watch = try WatchProcess(scratch)
        defer { watch.stop() }
        try watch.expect("watching the host's own code (Shop)")
        // A second client asks without pause on one connection for the whole test.
        let load = try LineLoad(port: port)

        // A method used as a handler, and the private helper it calls.
        try edit(scratch, "Controller.swift", "\"Hello, \\(name)\\(mark())\"", "\"Howdy, \\(name)\\(mark())\"")
        try edit(scratch, "Controller.swift", "private func mark() -> String { \"!\" }", "private func mark() -> String { \"?\" }")
        try await answers(client, "greet bob", "Howdy, bob? | v1", watch)
        // The watch says so once the node has answered the load, which may be after the app already runs the new code.
        try await until(
            watch.output.contains("Shop: 2 functions patched  build ") || watch.output.contains("Shop: 1 function patched  build "), watch)
        // A free function, a computed property, a static method and a closure inside a handler, in one save of two files.
        try edit(scratch, "Store.swift", "func banner() -> String { \"v1\" }", "func banner() -> String { \"v2\" }")
        try edit(scratch, "Store.swift", "var label: String { \"the shop\" }", "var label: String { \"the corner shop\" }")
        try edit(scratch, "Store.swift", "static func opening() -> String { \"open\" }", "static func opening() -> String { \"open late\" }")
        try edit(scratch, "Controller.swift", "map { $0 * 2 }", "map { $0 * 3 }")
        try await answers(client, "describe x", "the corner shop is open late | v2", watch)
        try await answers(client, "total x", "24 | v2", watch)

        // An inline closure registered at start-up: restart needed, nothing loaded.
        let before = watch.count("restart needed")
        try edit(scratch, "main.swift", "inline v1", "inline v2")
        try await until(watch.count("nothing of this save was loaded") >= 1, watch)
        #expect(watch.output.contains("restart needed: top-level code changed, which ran once, at start-up at Sources/App/main.swift:"), "\(watch.output)")
        #expect(try client.ask("inline y") == "inline v1 y | v2")
        try edit(scratch, "main.swift", "inline v2", "inline v1")
        // A stored property: restart needed; the app keeps serving its code.
        try edit(scratch, "Store.swift", "    var prices", "    var owner = \"ann\"\n    var prices")
        try await until(watch.count("nothing of this save was loaded") >= 2, watch)
        #expect(watch.output.contains("restart needed: a stored property was added at Sources/App/Store.swift:3"), "\(watch.output)")
        #expect(watch.count("restart needed") > before)
        #expect(try client.ask("greet bob") == "Howdy, bob? | v2")
        try edit(scratch, "Store.swift", "    var owner = \"ann\"\n", "")
        // A new file: the next build compiles it.
        try scratch.write("app/Sources/App/Extra.swift", "func extra() -> Int { 1 }\n")
        try await until(watch.count("nothing of this save was loaded") >= 3, watch)
        #expect(watch.output.contains("restart needed: a new source file of Shop at Sources/App/Extra.swift:1"), "\(watch.output)")
        try FileManager.default.removeItem(atPath: scratch.path("app/Sources/App/Extra.swift"))

        // A patch that does not compile: the compiler's diagnostics, at the user's file and line; the app keeps its code.
        try edit(scratch, "Store.swift", "func banner() -> String { \"v2\" }", "func banner() -> String { v2 }")
        try await until(watch.count("did not compile") >= 1, watch)
        #expect(watch.output.contains("Sources/App/Store.swift:12:"), "\(watch.output)")
        #expect(watch.output.contains("cannot find 'v2' in scope"), "\(watch.output)")
        #expect(try client.ask("greet bob") == "Howdy, bob? | v2")

        // Fifty successive patches of one function, each answering at once.
        var release = 2
        for n in 1...Self.patches {
            let done = watch.count(" patched  build ")
            try write(scratch, "Store.swift") { source in
                source.replacingOccurrences(of: release == 2 ? "{ v2 }" : "{ \"v\(release)\" }", with: "{ \"v\(release + 1)\" }")
            }
            release += 1
            try await until(watch.count(" patched  build ") > done, watch, "patch \(n)")
            #expect(try client.ask("greet bob") == "Howdy, bob? | v\(release)", "patch \(n)")
        }

        let failures = try await offPool { load.stop() }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        #expect(load.answers > Self.patches, "only \(load.answers) answers under load")

        // hot status: each patched member, and how often it ran since.
        let status = try scratch.hot(["status"])
        #expect(status.stdout.contains("host code patched (6 members)"), "\(status)")
        #expect(status.stdout.contains("Sources/App/Controller.swift:5 Controller.greet(_:)"), "\(status)")
        let document = try #require(try parseJSON(try scratch.hot(["status", "--json"]).stdout) as? [String: Any])
        let members = try #require(document["hostPatch"] as? [[String: Any]])
        let greet = try #require(members.first { $0["member"] as? String == "Controller.greet(_:)" })
        #expect((greet["runs"] as? Int ?? 0) > 0, "\(members)")
        #expect(members.contains { $0["member"] as? String == "Store.label" && $0["file"] as? String == "Sources/App/Store.swift" })

        // Without the watch: `hot deploy --patch-host` ships a patch to the one node, or refuses what needs a restart.
        watch.stop()
        try write(scratch, "Store.swift") { $0.replacingOccurrences(of: "{ \"v\(release)\" }", with: "{ \"deployed\" }") }
        let deployed = try scratch.hot(["deploy", "--patch-host"])
        #expect(deployed.status == 0 && deployed.stdout.contains("host_patch v"), "\(deployed)")
        #expect(try client.ask("greet bob") == "Howdy, bob? | deployed")
        try edit(scratch, "Store.swift", "    var prices", "    var owner = \"ann\"\n    var prices")
        let refused = try scratch.hot(["deploy", "--patch-host"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("restart needed: a stored property was added at Sources/App/Store.swift:3"), "\(refused)")
        #expect(refused.stderr.contains("nothing was deployed"), "\(refused)")
        #expect(try client.ask("greet bob") == "Howdy, bob? | deployed")
        #expect(shop.isRunning, "the app kept running: \(shop.log())")

        // Restarted on the same build, the app boots the newest patch, which was made permanent.
        try edit(scratch, "Store.swift", "    var owner = \"ann\"\n", "")
        shop.stop()
        try await offPool { try shop.start(in: scratch.path("app"), port: port) }
        #expect(try LineClient(port: port).ask("greet bob") == "Howdy, bob? | deployed", "\(shop.log())")
        // Rebuilt and restarted, it is the new base: the patch of the old build is left out.
        let rebuilt = try await offPool { try scratch.swiftBuild(in: "app") }
        try #require(rebuilt.status == 0, "\(rebuilt)")
        shop.stop()
        try await offPool { try shop.start(in: scratch.path("app"), port: port) }
        #expect(try LineClient(port: port).ask("greet bob") == "Howdy, bob? | deployed", "\(shop.log())")
        #expect(shop.log().contains("left out host_patch"), "\(shop.log())")
        let after = try scratch.hot(["status"])
        #expect(!after.stdout.contains("host_patch") && !after.stdout.contains("host code patched"), "\(after)")
    }

    /// The fixture package as `app`, with a project around it whose host it is.
    static func writeShop(_ scratch: Scratch) throws {
        let fixture = BuiltinVersionTests.hotPackage + "/Tests/Fixtures/PatchHost"
        let app = scratch.path("app")
        try FileManager.default.createDirectory(atPath: app + "/Sources/App", withIntermediateDirectories: true)
        for file in ["Controller.swift", "Store.swift", "main.swift"] {
            try FileManager.default.copyItem(atPath: fixture + "/Sources/App/" + file, toPath: app + "/Sources/App/" + file)
        }
        let identity = URL(fileURLWithPath: BuiltinVersionTests.hotPackage).lastPathComponent.lowercased()
        let manifest = try String(contentsOfFile: fixture + "/Package.swift", encoding: .utf8)
            .replacingOccurrences(of: "HOT_PACKAGE", with: BuiltinVersionTests.hotPackage)
            .replacingOccurrences(of: "HOT_IDENTITY", with: identity)
        try scratch.write("app/Package.swift", manifest)
        try scratch.write("app/hot.json", #"{"name": "shop", "host": {"package": ".", "product": "Shop"}}"#)
        try scratch.write("app/.gitignore", ".build/\n.hot/\n")
        for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "shop"]] {
            let git = try scratch.run("/usr/bin/env", ["git"] + arguments, in: app)
            try #require(git.status == 0, "\(git)")
        }
    }

    private func edit(_ scratch: Scratch, _ file: String, _ old: String, _ new: String) throws {
        try write(scratch, file) { source in
            #expect(source.contains(old), "\(file) lacks \(old)")
            return source.replacingOccurrences(of: old, with: new)
        }
    }

    private func write(_ scratch: Scratch, _ file: String, _ change: (String) -> String) throws {
        let path = "app/Sources/App/" + file
        try scratch.write(path, change(try scratch.read(path)))
    }

    /// Asks on `client` until the answer is `expected`: the saves before
    /// may come as one patch or several.
    private func answers(_ client: LineClient, _ request: String, _ expected: String, _ watch: WatchProcess) async throws {
        let deadline = Date().addingTimeInterval(120)
        var last = ""
        while Date() < deadline {
            last = try client.ask(request)
            if last == expected { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("'\(request)' answered '\(last)', not '\(expected)'; `hot watch` said:\n\(watch.output)")
    }

    private func until(_ condition: @autoclosure () -> Bool, _ watch: WatchProcess, _ what: String = "", timeout: Double = 120) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try #require(condition(), "\(what): `hot watch` said:\n\(watch.output)")
    }
}

/// The fixture's server, running; `stop()` ends it whatever happened.
final class ShopProcess: @unchecked Sendable {
    private var process: Process?
    private var input: Pipe?
    private var logPath = ""

    /// Runs `folder`/.build/debug/Shop for the project in `folder`, and waits
    /// until its port takes connections.
    func start(in folder: String, port: UInt16) throws {
        logPath = folder + "/shop.log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw ShopFailure(log: "cannot create \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: folder + "/.build/debug/Shop")
        process.arguments = ["--project", folder, "--port", "\(port)"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = output
        process.standardError = output
        // It ends when its input closes.
        let input = Pipe()
        process.standardInput = input
        try process.run()
        self.process = process
        self.input = input
        for _ in 0..<600 {
            if (try? LineClient(port: port).ask("greet ping")) != nil { return }
            guard process.isRunning else { throw ShopFailure(log: log()) }
            usleep(100_000)
        }
        throw ShopFailure(log: log())
    }

    var isRunning: Bool { process?.isRunning ?? false }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        guard let process, process.isRunning else { return }
        try? input?.fileHandleForWriting.close()
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    struct ShopFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "the shop did not come up:\n\(log)" }
    }
}

/// One connection to the shop: a line out, a line back.
final class LineClient: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []

    init(port: UInt16, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw LineFailure(what: "connect: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends `line` and returns the answer's line.
    func ask(_ line: String) throws -> String {
        let bytes = Array((line + "\n").utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw LineFailure(what: "send: errno \(errno)")
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let answer = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return answer
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw LineFailure(what: n == 0 ? "the shop closed the connection" : "recv: errno \(errno)") }
            pending += buffer[0..<n]
        }
    }

    struct LineFailure: Error, CustomStringConvertible {
        let what: String
        var description: String { what }
    }
}

/// A client asking the shop without pause on one connection until stopped;
/// every answer must be a greeting from some release of the code.
final class LineLoad: @unchecked Sendable {
    private let stopped = Atomic<Bool>(false)
    private let failures = Mutex<[String]>([])
    private let count = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16) throws {
        let client = try LineClient(port: port)
        Thread { [self] in
            defer { done.signal() }
            while !stopped.load(ordering: .relaxed) {
                do {
                    let answer = try client.ask("greet load")
                    count.add(1, ordering: .relaxed)
                    if answer.firstMatch(of: /^H(ello|owdy), load[!?] \| v\d+$/) == nil {
                        failures.withLock { $0.append("unexpected answer: \(answer)") }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }.start()
    }

    var answers: Int { count.load(ordering: .relaxed) }

    /// Stops the client; what failed.
    func stop() -> [String] {
        stopped.store(true, ordering: .relaxed)
        _ = done.wait(timeout: .now() + 30)
        return failures.withLock { $0 }
    }
}
