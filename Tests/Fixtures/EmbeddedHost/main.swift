#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform

// A server that embeds a node, as the end-to-end tests drive one: it takes
// an argument of its own (so a trial child that got past the first line
// would fail on its missing argument), runs the project's node, reports on
// stdout, and lives on after its node stops. Its stdin: "stop" stops the
// node from inside (what a graceful shutdown does); end of input ends the host.

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
while let line = readLine() {
    if line == "stop" { host.stop(reason: "the host stops it") }
}
say("host exiting")
exit(0)
