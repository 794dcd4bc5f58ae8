#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Logging

/// An in-process node (`NodeConfiguration.inProcess`; docs/EMBEDDING.md,
/// "Testing a host in-process"): the node a test bundle runs for the host
/// code it links, beside the app perhaps running from the same project.
extension NodeHost {
    /// The node of an in-process configuration: a temporary state folder,
    /// removed at stop (and at exit, for a node never stopped), a loader that
    /// runs no trial (it would re-run the test bundle) and checks no host
    /// build (the test bundle is another build than the one `hot build`
    /// compiled against, and links the same code). No cookie: nothing listens.
    static func inProcessNode(_ configuration: NodeConfiguration, logger: Logger?) throws(Failure) -> ([UInt8], Node) {
        let logger = logger ?? Logger(label: "hotnode.\(configuration.name)")
        let folder: String
        do { folder = try InProcessState.make() } catch { throw .stateFolder(path: InProcessState.template, error) }
        let store: Store
        do { store = try Store(root: folder) } catch {
            InProcessState.remove(folder)
            throw .stateFolder(path: folder, error)
        }
        let node = Node(
            name: configuration.name, store: store, codePath: nil, mode: configuration.mode, sticky: configuration.sticky,
            loader: Loader(trialExecutable: nil, checksHost: false, logger: logger), logger: logger)
        node.atShutdown { InProcessState.remove(folder) }
        logger.info("node \(configuration.name) runs in-process: \(configuration.inProcessReason); it listens nowhere, keeps its state in \(folder) until it stops, runs no trial loads and serves the versions built into this executable")
        return ([], node)
    }

    /// Loads into this process, for a test, the object `hot build` made for
    /// the host (`.hot/build/MODULE/MODULE.vN-KEY.so`, or the folder's
    /// `current` link to it): a new current
    /// version with every rule of a load (current and old, purge, the typed
    /// handles' check), but no trial load and no host build check, since a
    /// test bundle is another build of the host's code. Only an in-process
    /// node takes it; never use it to load code into a server.
    @discardableResult
    public func loadForTesting(_ path: String, purge: Bool = false) throws(LoadError) -> [CodeServer.LoadResult] {
        guard configuration.inProcess else {
            throw .badFile(path: path, reason: "loadForTesting loads only into an in-process node (a test bundle's); a server's node takes `hot deploy`")
        }
        // Resolved: a build folder's `current` link names no version, its target does.
        return try node.codeServer.load([realPath(path) ?? absolutePath(path)], purge: purge)
    }
}

/// The temporary state folders of in-process nodes still running: each is
/// removed when its node stops, and whatever is left when the process exits
/// (a test that made an app and never ran it).
enum InProcessState {
    /// The `mkdtemp(3)` template of a folder.
    static var template: String { "\(temporaryDirectory())/hot-in-process-XXXXXX" }
    private static let folders = Locked<(paths: Set<String>, atExit: Bool)>(([], false))

    /// Makes a fresh owner-only folder and remembers it for removal at exit.
    static func make() throws(SystemError) -> String {
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        guard let path = made else { throw SystemError("mkdtemp \(template)") }
        let register = folders.withLock { folders in
            folders.paths.insert(path)
            defer { folders.atExit = true }
            return !folders.atExit
        }
        if register { atexit { InProcessState.removeAll() } }
        return path
    }

    /// Removes a folder and forgets it.
    static func remove(_ path: String) {
        _ = folders.withLock { $0.paths.remove(path) }
        removeTree(path)
    }

    private static func removeAll() {
        for path in folders.withLock({ $0.paths }) { removeTree(path) }
    }

    private static func temporaryDirectory() -> String {
        guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
        return String(cString: value)
    }
}
