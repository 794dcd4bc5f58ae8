#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotWire

/// `hot start`.
let startCommand = Command(
    name: "start", summary: "build, then start the project's node in the background",
    usage: "start [--foreground]",
    details: """
        Starts hotnode for this project: it listens on .hot/node.sock, proves .hot/cookie
        (made owner-only on first start), keeps its state in .hot/node/ and its log in
        .hot/node.log, and boots the newest built version of every module.
        """,
    options: [Option("--foreground", .flag, help: "run the node attached to this terminal; Ctrl-C stops it")],
    arguments: 0...0
) { (args) throws(CommandError) in
    let project = try currentProject()
    let address = NodeAddress.unix(path: project.socketPath)
    if (try? NodeClient(address: address, cookieFile: project.cookiePath)) != nil {
        print("node \(project.config.name) is already running on \(address)")
        return
    }
    _ = try runBuild(project, ParsedArguments(), quiet: false)
    do throws(Cookie.Failure) { _ = try Cookie.create(path: project.cookiePath) } catch { throw .failed(error.description) }
    let node = try nodeExecutable()
    let nodeArguments = [
        "--name", project.config.name, "--listen", address.description, "--cookie-file", project.cookiePath,
        "--state", project.nodeStateDirectory, "--code-path", project.buildDirectory, "--pid-file", project.pidPath,
    ] + project.config.sticky.flatMap { ["--sticky", $0] }
    if args.has("--foreground") {
        let argv = ([node] + nodeArguments).map { strdup($0) } + [nil]
        execv(node, argv)
        throw .failed("cannot run \(node): \(String(cString: strerror(errno)))")
    }
    let process: Subprocess
    do {
        process = try Subprocess.spawn(node, nodeArguments, output: .file(project.logPath), newSession: true)
    } catch {
        throw .failed("cannot start \(node): \(error)")
    }
    // Wait until the node answers, or until it dies and its log says why.
    let deadline = monotonic() + 15
    while monotonic() < deadline {
        if process.hasExited() {
            let log = readFile(project.logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let last = log.split(separator: "\n").suffix(3).joined(separator: "\n")
            throw .failed("node exited at start; see \(project.logPath):\n\(last)")
        }
        if let client = try? NodeClient(address: address, cookieFile: project.cookiePath) {
            print("node \(client.nodeName) started (pid \(process.pid)), listening on \(address)")
            return
        }
        usleep(20_000)
    }
    process.signal(SIGTERM)
    throw .failed("node did not answer within 15 s; see \(project.logPath)")
}

/// `hot stop`.
let stopCommand = Command(
    name: "stop", summary: "stop the project's node cleanly", usage: "stop [--node NAME|ADDRESS]",
    details: "Asks the node to stop and waits until it has gone.",
    options: CommonOptions.nodeOptions, arguments: 0...0
) { (args) throws(CommandError) in
    let project = try? Project.find(from: currentDirectory())
    for target in try resolveNodes(args, project: project) {
        if case .unix(let path) = target.address, !fileExists(path) {
            print("node \(target.name) is not running")
            continue
        }
        let client = try connect(target)
        let name = client.nodeName
        do throws(ClientError) { _ = try client.request(.stop) } catch { throw clientFailure(error) }
        // The node answers, then closes its listener and exits: wait for the socket to go.
        let deadline = monotonic() + 10
        while monotonic() < deadline {
            if (try? NodeClient(address: target.address, cookieFile: target.cookieFile)) == nil { break }
            usleep(20_000)
        }
        print("node \(name) stopped")
    }
}

/// The hotnode beside this hot, or HOT_NODE.
func nodeExecutable() throws(CommandError) -> String {
    if let env = getenv("HOT_NODE") { return String(cString: env) }
    let candidate = executableDirectory() + "/hotnode"
    guard access(candidate, X_OK) == 0 else {
        throw .failed("hotnode not found beside hot (\(candidate)); reinstall hot or set HOT_NODE")
    }
    return candidate
}
