import Foundation
import Testing

/// Who can reach a node: its Unix socket is its owner's alone whatever the
/// umask, and a TCP listener beyond loopback is announced.
@Suite("Node exposure", .serialized)
struct NodeExposureTests {
    @Test("under umask 000, .hot/ is 0700 and the node's socket 0600")
    func privateSocketWhateverTheUmask() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        let started = try scratch.run("/bin/sh", ["-c", "umask 000; exec \"$0\" start", Binaries.hot], in: scratch.path("app"))
        try #require(started.status == 0, "\(started)")
        #expect(try mode(scratch.path("app/.hot")) == 0o700)
        #expect(try mode(scratch.path("app/.hot/node.sock")) == 0o600)
        // Nothing of the private bind is left beside the socket.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot")).filter { $0.hasPrefix(".bind-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let call = try scratch.hot(["call", "hello:greet", "bob"])
        #expect(call.stdout == "\"Hello, bob!\"\n", "\(call)")
    }

    @Test("a TCP listener beyond loopback is warned about in the node's log (its stderr)")
    func tcpBeyondLoopbackWarns() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let cookie = scratch.path("cookie")
        _ = FileManager.default.createFile(atPath: cookie, contents: Data("secret\n".utf8), attributes: [.posixPermissions: 0o600])
        for (address, warned) in [("tcp://127.0.0.1:0", false), ("tcp://0.0.0.0:0", true)] {
            let stderrPath = scratch.path("stderr-\(warned)")
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Binaries.directory + "/hotnode")
            process.arguments = [
                "--name", "exposed", "--listen", address, "--cookie-file", cookie,
                "--state", scratch.path("state-\(warned)"),
            ]
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            // "ready" comes after every listener is up and warned about.
            let deadline = Date().addingTimeInterval(10)
            var log = ""
            while Date() < deadline, !log.contains("ready") {
                usleep(20_000)
                log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            }
            #expect(log.contains("listening on"), "\(address): \(log)")
            #expect(log.contains("beyond loopback") == warned, "\(address): \(log)")
        }
    }

    private func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }
}
