#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform

// The shop: a Hot node (`--project DIR`) and a line server on a loopback
// port. Each connection sends `ROUTE ARG` lines and gets one line back per
// request, `ANSWER | banner`, on the same connection. Writes `ready PID`
// once it serves; ends when its stdin closes.

TrialLoad.runIfRequested()

typealias Handler = @Sendable (String) -> String

let store = Store()
let controller = Controller(store: store)
// Registered once, at start-up: methods, and one inline closure.
var routes: [String: Handler] = [
    "greet": controller.greet,
    "total": controller.total,
    "describe": controller.describe,
]
routes["inline"] = { arg in "inline v1 \(arg)" }
let table = routes

func answer(_ line: String, _ table: [String: Handler]) -> String {
    let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
    guard let handler = table[parts.first ?? ""] else { return "unknown route | \(banner())" }
    return handler(parts.count > 1 ? parts[1] : "") + " | " + banner()
}

func serve(_ client: Int32, _ table: [String: Handler]) {
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(client, &buffer, buffer.count)
        if n <= 0 { break }
        pending += buffer[0..<n]
        while let newline = pending.firstIndex(of: 10) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            let reply = Array((answer(line, table) + "\n").utf8)
            _ = writeAll(client, reply)
        }
    }
    close(client)
}

guard CommandLine.arguments.count == 5, CommandLine.arguments[1] == "--project", CommandLine.arguments[3] == "--port",
    let port = UInt16(CommandLine.arguments[4])
else {
    _ = writeAll(2, Array("usage: Shop --project DIR --port PORT\n".utf8))
    exit(2)
}
let host = try NodeHost(try NodeConfiguration.project(root: CommandLine.arguments[2]))
try host.start()

let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
var yes: Int32 = 1
setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = port.bigEndian
address.sin_addr.s_addr = inet_addr("127.0.0.1")
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
guard bound == 0, listen(listener, 64) == 0 else {
    _ = writeAll(2, Array("Shop: cannot listen on port \(port)\n".utf8))
    exit(1)
}
try startThread { [table] in
    while true {
        let client = accept(listener, nil, nil)
        if client < 0 { break }
        do { try startThread { serve(client, table) } } catch { close(client) }
    }
}
_ = writeAll(1, Array("ready \(getpid())\n".utf8))
while readLine() != nil {}
host.stop(reason: "the host's input closed")
