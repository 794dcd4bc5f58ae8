#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform
import HotWire
import Logging

// The generic node host: a process that hosts hot modules and nothing else.

let usage = """
    usage: hotnode --name NAME --listen ADDRESS [--listen ADDRESS]... --cookie-file PATH
                   --state DIR [--code-path DIR] [--mode interactive|embedded]
                   [--sticky MODULE]... [--pid-file PATH] [--trial-timeout SECONDS]
      ADDRESS is unix:PATH or tcp://HOST:PORT (TCP binds where told; use 127.0.0.1 for loopback)
      --trial-timeout: how long a new object's trial load may run before it is
           killed and the object refused (default \(Int(TrialLoad.defaultTimeout)))
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

var name: String?
var listen: [NodeAddress] = []
var cookieFile: String?
var state: String?
var codePath: String?
var sticky: Set<String> = []
var pidFile: String?
var mode = Node.Mode.interactive
var trialTimeout = TrialLoad.defaultTimeout

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == TrialLoad.flag {
    exit(TrialLoad.runChild(path: CommandLine.arguments[2]))
}
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == Relay.flag {
    exit(Relay.run(socketPath: CommandLine.arguments[2]))
}
if CommandLine.arguments.count >= 2, CommandLine.arguments[1] == Supervisor.flag {
    var nodeArguments = Array(CommandLine.arguments.dropFirst(2))
    var supervisorPidFile: String?
    if nodeArguments.first == "--supervisor-pid-file" {
        guard nodeArguments.count >= 2 else { fail("--supervisor-pid-file needs a value\n\(usage)") }
        supervisorPidFile = nodeArguments[1]
        nodeArguments.removeFirst(2)
    }
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

var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let v = arguments.popFirst() else { fail("\(argument) needs a value\n\(usage)") }
        return v
    }
    switch argument {
    case "--name": name = value()
    case "--listen":
        let text = value()
        guard let address = NodeAddress(parsing: text) else { fail("bad address '\(text)': use unix:PATH or tcp://HOST:PORT") }
        listen.append(address)
    case "--cookie-file": cookieFile = value()
    case "--state": state = value()
    case "--code-path": codePath = value()
    case "--sticky": sticky.insert(value())
    case "--pid-file": pidFile = value()
    case "--trial-timeout":
        let text = value()
        guard let seconds = Double(text), seconds > 0 else { fail("--trial-timeout is a number of seconds, not '\(text)'") }
        trialTimeout = seconds
    case "--mode":
        let text = value()
        guard let m = Node.Mode(rawValue: text) else { fail("--mode is interactive or embedded, not '\(text)'") }
        mode = m
    case "--help", "-h":
        print(usage)
        exit(0)
    default: fail("unknown option '\(argument)'\n\(usage)")
    }
}

guard let name, let cookieFile, let state, !listen.isEmpty else { fail("--name, --listen, --cookie-file and --state are required\n\(usage)") }

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
let logger = Logger(label: "hotnode.\(name)")

let cookie: [UInt8]
do { cookie = try Cookie.read(path: cookieFile) } catch { fail(error.description, status: 1) }

// Block the stop signals in every thread; one thread waits for them and shuts
// the node down cleanly (socket file removed) instead of dying mid-write.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGTERM)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGHUP)
pthread_sigmask(SIG_BLOCK, &signals, nil)
signal(SIGPIPE, SIG_IGN)

let node: Node
do {
    node = Node(
        name: name, store: try Store(root: state), codePath: codePath, mode: mode, sticky: sticky, trialTimeout: trialTimeout,
        logger: logger)
} catch {
    fail("cannot use state folder \(state): \(error)", status: 1)
}
node.boot()
for address in listen {
    do { _ = try node.listen(on: address, cookie: cookie) } catch {
        fail("cannot listen on \(address): \(error)", status: 1)
    }
}
if let pidFile {
    let text = "\(getpid())\n"
    let fd = open(pidFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd >= 0 {
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
    node.atShutdown { unlink(pidFile) }
}
logger.info("node \(name) ready")

var received: Int32 = 0
sigwait(&signals, &received)
node.shutdown(reason: "signal \(received)")
