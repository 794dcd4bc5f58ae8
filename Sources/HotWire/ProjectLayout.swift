#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// Where a Hot project keeps what it generates (`.hot/`), and where its local
/// nodes keep their socket, cookie, state and pid: the one layout that `hot`
/// and every node of the project (`hotnode`, or a server that embeds
/// `HotNode`) agree on (docs/ARCHITECTURE.md, "State folder").
public struct ProjectLayout: Sendable, Equatable {
    /// The folder holding `hot.json`.
    public let root: String
    /// The project's name: the default local node's name.
    public let name: String

    /// The layout of the project in `root` named `name`.
    public init(root: String, name: String) {
        self.root = root
        self.name = name
    }

    /// The project's configuration file, in its root.
    public static let configFile = "hot.json"

    /// The nearest folder holding `hot.json`: `folder` or one above it.
    public static func findRoot(from folder: String) -> String? {
        var current = absolutePath(folder)
        while true {
            if fileExists(current + "/" + configFile) { return current }
            if current == "/" || current.isEmpty { return nil }
            current = parentDirectory(current)
        }
    }

    /// `.hot/`, ignored by git: build output, manifest, node socket, cookie, node state.
    public var hotDirectory: String { root + "/.hot" }
    /// Where versions are built: `<module>/<module>.vN-KEY.so`.
    public var buildDirectory: String { hotDirectory + "/build" }
    /// The record of every built version.
    public var manifestPath: String { hotDirectory + "/manifest.json" }
    /// The lock one `hot` command at a time holds while it writes the builds.
    public var lockPath: String { hotDirectory + "/lock" }
    /// The cookie every local node of the project proves.
    public var cookiePath: String { hotDirectory + "/cookie" }

    /// Creates `.hot/` owner-only (0700) whatever the umask, or narrows one
    /// made by an earlier version of hot: it holds the node's socket and the
    /// cookie, and nobody else has any business listing it.
    public func makeHotDirectory() throws(SystemError) {
        try makeDirectories(hotDirectory, mode: 0o700)
        guard chmod(hotDirectory, 0o700) == 0 else { throw SystemError("chmod \(hotDirectory)") }
    }

    /// The files of a local node: the default one (named like the project)
    /// lives in `.hot/` directly, any other in `.hot/nodes/NAME/`.
    public func localNode(_ node: String? = nil) -> LocalNode {
        guard let node, node != name else {
            let dir = hotDirectory
            return LocalNode(name: name, socket: dir + "/node.sock", state: dir + "/node", pid: dir + "/node.pid", log: dir + "/node.log")
        }
        let dir = hotDirectory + "/nodes/" + node
        return LocalNode(name: node, socket: dir + "/node.sock", state: dir + "/state", pid: dir + "/node.pid", log: dir + "/node.log")
    }
}

/// Where a local node of a project keeps its files.
public struct LocalNode: Sendable, Equatable {
    /// Its name.
    public let name: String
    /// Its control socket.
    public let socket: String
    /// Its state folder (staged objects, permanent set).
    public let state: String
    /// Its pid file.
    public let pid: String
    /// Its log (a node `hot start` runs in the background writes there).
    public let log: String
}
