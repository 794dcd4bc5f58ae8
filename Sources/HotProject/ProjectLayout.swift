#if canImport(Glibc)
import Glibc
#endif
import HotPlatform

/// Every path of a Hot project: its `hot.json`, and what it generates under
/// `.hot/` (build output, manifest, lock, toolchain cache, the host's build,
/// cookie, and each local node's socket, state, pid and log). The one layout
/// that `hot` and every node of the project (`hotnode`, or a server that
/// embeds `HotNode`) agree on; no other file spells a path under `.hot/`
/// (docs/ARCHITECTURE.md, "State folder").
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

    /// The folder under the root that holds what the project generates.
    public static let hotFolder = ".hot"
    /// The line of `.gitignore` that keeps what the project generates out of git.
    public static let ignoreEntry = hotFolder + "/"

    /// The nearest folder holding `hot.json`: `folder` or one above it.
    public static func findRoot(from folder: String) -> String? {
        var current = absolutePath(folder)
        while true {
            if fileExists(current + "/" + configFile) { return current }
            if current == "/" || current.isEmpty { return nil }
            current = parentDirectory(current)
        }
    }

    /// `hot.json`.
    public var configPath: String { root + "/" + Self.configFile }
    /// `.hot/`, ignored by git: build output, manifest, node socket, cookie, node state.
    public var hotDirectory: String { root + "/" + Self.hotFolder }
    /// Where versions are built: `<module>/<module>.vN-KEY.so`.
    public var buildDirectory: String { hotDirectory + "/build" }
    /// The build folder as a code path: every path inside it, and what a
    /// local node's `--code-path` names.
    public var builds: CodePath { CodePath(buildDirectory) }
    /// Where the command lines derived from the driver are kept (`DriverPlanCache`).
    public var driverPlansDirectory: String { builds.driverPlansDirectory }
    /// The record of every built version.
    public var manifestPath: String { hotDirectory + "/manifest.json" }
    /// The lock one `hot` command at a time holds while it writes the builds.
    public var lockPath: String { hotDirectory + "/lock" }
    /// The cookie every local node of the project proves.
    public var cookiePath: String { hotDirectory + "/cookie" }
    /// The located compiler and SDK, cached.
    public var toolchainCachePath: String { hotDirectory + "/toolchain" }
    /// hot.json's `host`, as read from its build description.
    public var host: HostFiles { HostFiles(directory: hotDirectory + "/host") }

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
            return LocalNode(name: name, directory: hotDirectory, state: hotDirectory + "/node")
        }
        let dir = hotDirectory + "/nodes/" + node
        return LocalNode(name: node, directory: dir, state: dir + "/state")
    }
}

/// Where `hot build` keeps what it read of hot.json's `host`: `.hot/host/`.
public struct HostFiles: Sendable, Equatable {
    /// `.hot/host/`.
    public let directory: String
    /// The host's build as last read, with the stamps it was read at.
    public var cachePath: String { directory + "/build.json" }
    /// Links to the modules the host links, given to swiftc as `-I`.
    public var modulesDirectory: String { directory + "/Modules" }
    /// The host builds kept for apps that still run them: one folder each.
    public var keptDirectory: String { directory + "/builds" }
    /// The kept build whose executable has `fingerprint`: its `build.json`
    /// and its `Modules/`, hard links to the modules that build made.
    public func kept(_ fingerprint: String) -> String { keptDirectory + "/" + fingerprint }
}

/// Where a local node of a project keeps its files.
public struct LocalNode: Sendable, Equatable {
    /// Its name.
    public let name: String
    /// The folder holding its socket, pid file and log.
    public let directory: String
    /// Its state folder (staged objects, permanent set).
    public let state: String

    /// The files in its state folder.
    public var stateFolder: StateFolder { StateFolder(state) }

    /// Its control socket.
    public var socket: String { directory + "/node.sock" }
    /// Its pid file.
    public var pid: String { directory + "/node.pid" }
    /// Its log (a node `hot start` runs in the background writes there).
    public var log: String { directory + "/node.log" }
    /// The pid file of `hotnode --supervise`, which restarts it.
    public var supervisorPid: String { directory + "/supervisor.pid" }
}
