#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotWire

// watchprobe SOCKET COOKIE MODULE:FUNCTION ARG FILE SOURCE EXPECTED
//
// The edit-to-live clock of `hot watch` (scripts/bench/watch.sh): writes the
// text of SOURCE over FILE in place, as an editor saving does, then calls
// MODULE:FUNCTION(ARG) on the node through one open connection, a call every
// millisecond, until the answer contains EXPECTED: the first external call
// answered by the new code. Prints the seconds from the write to that answer.
// Gives up after 60 s.

let arguments = CommandLine.arguments
guard arguments.count == 8 else {
    writeError("usage: watchprobe SOCKET COOKIE MODULE:FUNCTION ARG FILE SOURCE EXPECTED\n")
    exit(2)
}
let (socket, cookieFile, target, argument) = (arguments[1], arguments[2], arguments[3], arguments[4])
let (file, sourceFile, expected) = (arguments[5], arguments[6], arguments[7])
let parts = target.split(separator: ":").map(String.init)
guard parts.count == 2, let source = readFile(sourceFile) else {
    writeError("watchprobe: MODULE:FUNCTION and a readable SOURCE are needed\n")
    exit(2)
}

func writeError(_ text: String) { _ = writeAll(2, Array(text.utf8)) }

let connection: Connection
do {
    connection = try Connection.open(to: .unix(path: socket), cookie: try Cookie.read(path: cookieFile))
} catch {
    writeError("watchprobe: cannot reach the node: \(error)\n")
    exit(1)
}

let started = monotonic()
let fd = open(file, O_WRONLY | O_TRUNC)
guard fd >= 0, writeAll(fd, source) else {
    writeError("watchprobe: cannot write \(file)\n")
    exit(1)
}
close(fd)

while monotonic() - started < 60 {
    if case .ok(.string(let answer))? = try? connection.request(.call(module: parts[0], function: parts[1], args: [.string(argument)])),
        answer.contains(expected)
    {
        print(monotonic() - started)
        exit(0)
    }
    usleep(1000)
}
writeError("watchprobe: no answer containing \(expected) within 60 s\n")
exit(1)
