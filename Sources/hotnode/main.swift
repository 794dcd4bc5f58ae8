#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform
import HotProject
import HotWire
import Logging

// The generic node host: a process that hosts hot modules and nothing else.
// The node itself is a `NodeHost`, as in any server that embeds HotNode;
// what is left here is hotnode's own: its other modes, its flags, its log
// and its stop signals.

let usage = """
    usage: hotnode \(NodeConfiguration.argumentsUsage)
      ADDRESS is unix:PATH or tcp://HOST:PORT (TCP binds where told; use 127.0.0.1 for loopback)
      --trial-timeout: how long a new object's trial load may run before it is
           killed and the object refused (default \(TrialLoad.defaultTimeout.shortDescription))
           (HOT_TRIAL_SPARE=0 in the environment: start each trial's child on the
           spot instead of keeping one started ahead of time)
           hotnode --supervise [--supervisor-pid-file PATH] NODE-OPTIONS...
                                    run a node with NODE-OPTIONS as a child, and start it
                                    again when it dies by a signal or an error
           hotnode --check FILE     trial-load an object in this process and exit
           hotnode --relay SOCKET   join stdin/stdout to a node's socket (for ssh:// addresses)
    """

func fail(_ message: String, status: Int32 = 2) -> Never {
    _ = writeAll(2, Array("hotnode: \(message)\n".utf8))
    exit(status)
}

// A trial child (HOT_TRIAL_LOAD set) runs the trial and exits, whatever its arguments.
TrialLoad.runIfRequested()

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == TrialLoad.flag {
    exit(TrialLoad.runChild(path: CommandLine.arguments[2]))
}
if let socket = RelayFlags.socket(in: Array(CommandLine.arguments.dropFirst())) {
    exit(Relay.run(socketPath: socket))
}
let supervisor: SupervisorFlags?
do { supervisor = try SupervisorFlags(arguments: Array(CommandLine.arguments.dropFirst())) } catch { fail("\(error)\n\(usage)") }
if let supervisor {
    let nodeArguments = supervisor.node
    let supervisorPidFile = supervisor.pidFile
    guard let executable = realPath("/proc/self/exe") else { fail("cannot find this executable", status: 1) }
    if let supervisorPidFile {
        do { try writeFileAtomically(supervisorPidFile, Array("\(getpid())\n".utf8)) } catch { fail(error.description, status: 1) }
    }
    let status = Supervisor(executable: executable, arguments: nodeArguments).run { line in
        _ = writeAll(2, Array("hotnode: \(line)\n".utf8))
    }
    if let supervisorPidFile { unlink(supervisorPidFile) }
    exit(status)
}
if CommandLine.arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(usage)
    exit(0)
}

let configuration: NodeConfiguration
do {
    configuration = try NodeConfiguration(arguments: CommandLine.arguments.dropFirst())
} catch {
    fail("\(error)\n\(usage)")
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}

// Block the stop signals in every thread (before the node makes any); one
// thread waits for them and stops the node cleanly (socket file removed)
// instead of dying mid-write.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGTERM)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGHUP)
pthread_sigmask(SIG_BLOCK, &signals, nil)
signal(SIGPIPE, SIG_IGN)

let host: NodeHost
do {
    host = try NodeHost(configuration, logger: Logger(label: "hotnode.\(configuration.name)"))
    // This process is nothing but the node: it may re-execute itself to compact.
    host.allowCompaction(arguments: CommandLine.arguments)
    try host.start()
} catch {
    fail(error.description, status: 1)
}
let stopSignals = signals
do {
    try startThread {
        var blocked = stopSignals
        var received: Int32 = 0
        sigwait(&blocked, &received)
        host.stop(reason: "signal \(received)")
    }
} catch {
    host.stop(reason: "no thread to wait for stop signals: \(error)")
    fail(error.description, status: 1)
}
// Until a stop signal or `hot stop`.
host.waitUntilStopped()
exit(0)
