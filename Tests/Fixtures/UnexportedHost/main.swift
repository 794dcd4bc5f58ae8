#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform

// A server that embeds a node but was linked without -Xlinker
// --export-dynamic: making its node must fail at once, in one line, before
// it touches any of the (here nonexistent) node's files.

let configuration = NodeConfiguration(
    name: "unexported", listen: [.unix(path: "/nonexistent/node.sock")], cookieFile: "/nonexistent/cookie",
    state: "/nonexistent/state")
do {
    _ = try NodeHost(configuration)
} catch {
    _ = writeAll(2, Array("UnexportedHostFixture: \(error)\n".utf8))
    exit(1)
}
_ = writeAll(1, Array("the node was made\n".utf8))
