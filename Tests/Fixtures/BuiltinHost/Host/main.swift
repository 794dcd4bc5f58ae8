#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform

// A host whose package builds the hot module `greet` in, for the end-to-end
// tests: it runs the project's node (`--project DIR`), writes "ready PID"
// on stdout once it serves, and ends when its stdin closes.
//
// `--in-process DIR [OBJECT]` does what an app's test does instead (run as
// a copy named `*.xctest`, a test bundle): it runs the project's node, calls
// greet:greet through a typed handle, loads OBJECT for testing and calls
// again, then says whether the node's socket exists and how many children
// this process has (a trial load would start one), and stops the node.

TrialLoad.runIfRequested()

func say(_ line: String) { _ = writeAll(1, Array("\(line)\n".utf8)) }

/// The children of every thread of this process.
func children() -> Int {
    listDirectory("/proc/self/task").reduce(0) { count, task in
        let text = readFile("/proc/self/task/\(task)/children").map { String(decoding: $0, as: UTF8.self) } ?? ""
        return count + text.split(separator: " ").count
    }
}

func inProcess(_ root: String, object: String?) throws {
    let configuration = try NodeConfiguration.project(root: root)
    say("in-process \(configuration.inProcess)")
    let host = try NodeHost(configuration)
    try host.start()
    let greet = host.node.codeServer.exports.function("greet", "greet", ((String) throws -> String).self)
    say("called \(try greet("x"))")
    if let object {
        for result in try host.loadForTesting(object) { say("loaded \(result.module) v\(result.from.map(String.init) ?? "-") -> v\(result.to)") }
        say("called \(try greet("x"))")
    }
    say("socket \(fileExists(root + "/.hot/node.sock"))")
    say("pid file \(fileExists(root + "/.hot/node.pid"))")
    say("children \(children())")
    let state = host.node.store.root
    host.stop(reason: "the test is done")
    say("state folder left \(fileExists(state))")
}

if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "--in-process" {
    do {
        try inProcess(CommandLine.arguments[2], object: CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : nil)
        exit(0)
    } catch {
        _ = writeAll(2, Array("BuiltinHostFixture: \(error)\n".utf8))
        exit(1)
    }
}
guard CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--project" else {
    _ = writeAll(2, Array("usage: BuiltinHostFixture --project DIR | --in-process DIR [OBJECT]\n".utf8))
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
