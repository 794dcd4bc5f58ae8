#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform

// A host whose package builds the hot module `greet` in, for the end-to-end
// tests: it runs the project's node (`--project DIR`), writes "ready PID"
// on stdout once it serves, and ends when its stdin closes.

TrialLoad.runIfRequested()

guard CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--project" else {
    _ = writeAll(2, Array("usage: BuiltinHostFixture --project DIR\n".utf8))
    exit(2)
}
do {
    let host = try NodeHost(try NodeConfiguration.project(root: CommandLine.arguments[2]))
    try host.start()
    _ = writeAll(1, Array("ready \(getpid())\n".utf8))
    while readLine() != nil {}
    host.stop(reason: "the host's input closed")
} catch {
    _ = writeAll(2, Array("BuiltinHostFixture: \(error)\n".utf8))
    exit(1)
}
