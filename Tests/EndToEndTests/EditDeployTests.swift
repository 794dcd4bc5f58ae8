import Foundation
import Testing

/// The whole path through every layer: init, start, call, edit, deploy, call,
/// status, stop, with real swiftc, a real node and a real socket.
@Suite("End to end", .serialized)
struct EditDeployTests {
    @Test("a changed module becomes new code in the live node")
    func editDeploy() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let initialized = try scratch.hot(["init", "app"], in: "")
        #expect(initialized.status == 0, "\(initialized)")
        #expect(FileManager.default.fileExists(atPath: scratch.path("app/.git")))
        #expect(try scratch.read("app/.gitignore").contains(".hot/"))

        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
        let pid = try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        // The cookie is made owner-only: nobody else may read it.
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.path("app/.hot/cookie"))[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let first = try scratch.hot(["call", "hello:greet", "bob"])
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout == "\"Hello, bob!\"\n")

        let source = try scratch.read("app/modules/hello/hello.swift")
        try scratch.write("app/modules/hello/hello.swift", source.replacingOccurrences(of: "Hello, ", with: "Howdy, "))
        let deployed = try scratch.hot(["deploy"])
        #expect(deployed.status == 0, "\(deployed)")
        #expect(deployed.stdout.contains("hello v1 -> v2"), "\(deployed)")

        let second = try scratch.hot(["call", "hello:greet", "\"bob\""])
        #expect(second.stdout == "\"Howdy, bob!\"\n", "\(second)")
        #expect(Scratch.isAlive(pid), "the node must not restart")

        let status = try scratch.hot(["status", "--json"])
        #expect(status.status == 0, "\(status)")
        let document = try #require(try parseJSON(status.stdout) as? [String: Any])
        #expect(document["node"] as? String == "app")
        #expect(document["processes"] as? [Any] != nil)
        let modules = try #require(document["modules"] as? [[String: Any]])
        let hello = try #require(modules.first { $0["name"] as? String == "hello" })
        let current = try #require(hello["current"] as? [String: Any])
        let old = try #require(hello["old"] as? [String: Any])
        #expect(current["version"] as? Int == 2)
        #expect((current["key"] as? String)?.count == 64)
        #expect(current["commit"] is String)
        #expect(old["version"] as? Int == 1)
        #expect(old["processes"] as? Int == 0)
        #expect(hello["sticky"] as? Bool == false)
        #expect(hello.keys.contains("permanent"))

        // Deploying again with nothing changed builds nothing and loads nothing.
        let again = try scratch.hot(["deploy"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("already runs the newest"), "\(again)")

        let stopped = try scratch.hot(["stop"])
        #expect(stopped.status == 0, "\(stopped)")
        for _ in 0..<100 where Scratch.isAlive(pid) { usleep(20_000) }
        #expect(!Scratch.isAlive(pid), "hot stop must end the node")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("app/.hot/node.sock")))
    }

    @Test("a module that does not compile fails the deploy and the node keeps its version")
    func compileFailure() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try #require(try scratch.hot(["start"]).status == 0)

        let source = try scratch.read("app/modules/hello/hello.swift")
        try scratch.write("app/modules/hello/hello.swift", source + "\nlet broken: Int = \"not an int\"\n")
        let deployed = try scratch.hot(["deploy"])
        #expect(deployed.status == 1, "\(deployed)")
        #expect(deployed.stderr.contains("error:"), "the compiler's message must reach the user: \(deployed)")
        #expect(deployed.stderr.contains("hello.swift"), "\(deployed)")

        let call = try scratch.hot(["call", "hello:greet", "ann"])
        #expect(call.stdout == "\"Hello, ann!\"\n", "\(call)")
        let status = try scratch.hot(["status", "--json"])
        let document = try #require(try parseJSON(status.stdout) as? [String: Any])
        let hello = try #require((document["modules"] as? [[String: Any]])?.first)
        #expect((hello["current"] as? [String: Any])?["version"] as? Int == 1)
        #expect(hello["old"] is NSNull)
        // Nothing half-built is left in the build folder.
        let built = try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/hello"))
        #expect(built.filter { $0.hasSuffix(".so") }.count == 1, "\(built)")
        #expect(!built.contains { $0.hasSuffix(".tmp") }, "\(built)")
    }

    /// A reply's own timeout is 10 s, but a deploy's `check` tries each new
    /// object in turn, and each trial may take up to the node's trial
    /// timeout: four objects whose on-load hooks take 3 s each outlast 10 s
    /// in the check and again in the load, as a deploy of several modules
    /// does on a loaded machine.
    @Test("a deploy whose trials together outlast a reply's timeout is waited for, not reported as a dead node")
    func slowTrials() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try #require(try scratch.hot(["start"]).status == 0)
        for n in 1...4 {
            try FileManager.default.createDirectory(atPath: scratch.path("app/modules/slow\(n)"), withIntermediateDirectories: true)
            try scratch.write("app/modules/slow\(n)/slow\(n).swift", """
                import Glibc
                import Hot

                let module = HotModule(exports: [.function("n", { () -> Int in \(n) })], onLoad: { usleep(3_000_000) })
                """)
        }
        let started = ContinuousClock.now
        let deployed = try scratch.hot(["deploy"])
        let took = ContinuousClock.now - started
        #expect(deployed.status == 0, "\(deployed)")
        #expect(took > .seconds(20), "the trials and the loads must each have outlasted 10 s: \(took)")
        for n in 1...4 {
            let call = try scratch.hot(["call", "slow\(n):n"])
            #expect(call.stdout == "\(n)\n", "\(call)")
        }
    }

    @Test("a wrong cookie makes every command exit 3 and changes nothing on the node")
    func wrongCookie() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try #require(try scratch.hot(["start"]).status == 0)
        let before = try scratch.hot(["status", "--json"])
        try #require(before.status == 0)

        let wrong = scratch.path("wrong-cookie")
        try "not-the-cookie\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(wrong, 0o600)
        let source = try scratch.read("app/modules/hello/hello.swift")
        try scratch.write("app/modules/hello/hello.swift", source.replacingOccurrences(of: "Hello, ", with: "Intruder, "))

        for command in [["call", "hello:greet", "x"], ["status"], ["deploy"], ["update", "hello"], ["stop"]] {
            let outcome = try scratch.hot(command + ["--cookie-file", wrong])
            #expect(outcome.status == 3, "\(command): \(outcome)")
            #expect(outcome.stderr.contains("cookie"), "\(command): \(outcome)")
            #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome)")
        }
        let after = try scratch.hot(["status", "--json"])
        #expect(after.status == 0, "the node must still run: \(after)")
        let beforeDoc = try #require(try parseJSON(before.stdout) as? [String: Any])
        let afterDoc = try #require(try parseJSON(after.stdout) as? [String: Any])
        #expect(NSDictionary(dictionary: beforeDoc).isEqual(to: afterDoc), "status changed:\n\(before.stdout)\n\(after.stdout)")
        let call = try scratch.hot(["call", "hello:greet", "x"])
        #expect(call.stdout == "\"Hello, x!\"\n")
    }
}
