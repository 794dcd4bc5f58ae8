#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotNode
import HotPlatform

// A server that embeds a node, as the end-to-end tests drive one: it takes
// an argument of its own (so a trial child that got past the first line
// would fail on its missing argument), runs the project's node, reports on
// stdout, and lives on after its node stops. Its stdin: "stop" stops the
// node from inside (what a graceful shutdown does); "handle M F" makes a
// typed handle on the export M:F of type (String) throws -> String, as a
// server's routes do, and keeps it; "call M F ARG" calls it and says
// "called RESULT" or "failed REASON"; end of input ends the host.

TrialLoad.runIfRequested()

func say(_ line: String) { _ = writeAll(1, Array((line + "\n").utf8)) }

guard CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--project" else {
    _ = writeAll(2, Array("usage: EmbeddedHostFixture --project DIR\n".utf8))
    exit(2)
}
let host: NodeHost
do {
    host = try NodeHost(try NodeConfiguration.project(root: CommandLine.arguments[2]))
    try host.start()
} catch {
    _ = writeAll(2, Array("EmbeddedHostFixture: \(error)\n".utf8))
    exit(1)
}
say("ready \(getpid())")
try! startThread {
    host.waitUntilStopped()
    say("node stopped")
}
var handles: [String: ExternalFunction<String, String>] = [:]
while let line = readLine() {
    let words = line.split(separator: " ").map(String.init)
    switch (words.first, words.count) {
    case ("stop", 1):
        host.stop(reason: "the host stops it")
    case ("handle", 3):
        handles[words[1] + ":" + words[2]] = host.node.codeServer.exports.function(words[1], words[2], ((String) throws -> String).self)
        say("handle \(words[1]):\(words[2])")
    case ("call", 4):
        do {
            guard let handle = handles[words[1] + ":" + words[2]] else { throw CallError.undefinedFunction(module: words[1], function: words[2]) }
            say("called \(try handle(words[3]))")
        } catch {
            say("failed \(error)")
        }
    default:
        break
    }
}
say("host exiting")
exit(0)
