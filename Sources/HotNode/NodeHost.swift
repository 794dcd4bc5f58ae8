#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject
import HotWire
import Logging

/// A node run by this process, from a `NodeConfiguration`: what `hotnode`
/// does, for `hotnode` and for any server that embeds `HotNode` alike. `init`
/// checks the process can host modules and makes the node; `start` boots the
/// permanent set, listens and writes the pid file; `stop` undoes all of it
/// without ending the process, so a host can go on to shut down gracefully.
///
/// A host calls `TrialLoad.runIfRequested()` first thing in `main`; `init`
/// calls it too, so a host that makes its `NodeHost` before anything else
/// is covered.
public final class NodeHost: Sendable {
    /// What the node was made from.
    public let configuration: NodeConfiguration
    /// The node: its code server, exports and status.
    public let node: Node
    /// The cookie clients prove, and a fleet's follower signs with.
    let cookie: [UInt8]
    /// The addresses listened on, once started.
    private let started = Locked<[NodeAddress]?>(nil)
    /// The socket `ReadyNotice` names, if the process that started this one
    /// waits for it to serve: written once `start` has everything listening.
    private let ready: Locked<Descriptor?>

    /// The C symbol of the SDK a node looks for in its own process.
    static let sdkProbe = "hot_sdk_exported"

    /// Makes the node of `configuration`: runs the trial and exits if this
    /// process is a trial child, checks that the executable exports the Hot
    /// SDK to modules, reads the cookie (a project's is made when missing)
    /// and opens the state folder. Nothing listens yet.
    public init(_ configuration: NodeConfiguration, logger: Logger? = nil) throws(Failure) {
        TrialLoad.runIfRequested()
        // Taken first, so that nothing this process starts inherits it; a
        // failure below closes it unwritten, which the starter reads as such.
        ready = Locked(ReadyNotice.take())
        try Self.checkSDKExported()
        if configuration.inProcess {
            (self.cookie, self.node) = try Self.inProcessNode(configuration, logger: logger)
            self.configuration = configuration
            return
        }
        if let project = configuration.project {
            do {
                try project.makeHotDirectory()
                for address in configuration.listen {
                    if case .unix(let path) = address { try makeDirectories(parentDirectory(path), mode: 0o700) }
                }
            } catch {
                throw .projectFolder(path: project.hotDirectory, error)
            }
        }
        do throws(Cookie.Failure) {
            cookie = configuration.project != nil
                ? try Cookie.create(path: configuration.cookieFile) : try Cookie.read(path: configuration.cookieFile)
        } catch {
            throw .cookie(error)
        }
        let store: Store
        do { store = try Store(root: configuration.state) } catch { throw .stateFolder(path: configuration.state, error) }
        self.configuration = configuration
        self.node = Node(
            name: configuration.name, store: store, codePath: configuration.codePath, mode: configuration.mode,
            sticky: configuration.sticky, trialTimeout: configuration.trialTimeout,
            logger: logger ?? Logger(label: "hotnode.\(configuration.name)"))
    }

    /// Boots the permanent set, listens on every address, writes the pid
    /// file and starts following the configuration's fleet, if any
    /// (`NodeHost+Fleet`), then tells the process that started this one, if
    /// it waits (`ReadyNotice`); returns the addresses listened on (a TCP port 0 made concrete).
    /// A second call, even a concurrent one, returns the same addresses. On
    /// failure the node is stopped: whatever listened is closed again.
    @discardableResult
    public func start() throws(Failure) -> [NodeAddress] {
        // Held for the whole start, so that a second caller waits for the
        // first one's addresses instead of booting and binding again.
        try started.withLock { (started) throws(Failure) -> [NodeAddress] in
            if let started { return started }
            guard !node.isStopped else { throw .stopped }
            let addresses: [NodeAddress]
            do throws(Failure) { addresses = try bootAndListen() } catch {
                // The starter reads the end without the line: this node failed.
                _ = ready.withLock { $0.take() }
                throw error
            }
            started = addresses
            if let notice = ready.withLock({ $0.take() }) { ReadyNotice.send(notice) }
            if configuration.compaction != CompactionThreshold(), node.compaction.withLock({ $0.arguments == nil }) {
                node.logger.warning("the compaction threshold is ignored: this node runs inside a server that embeds it, and only hotnode re-executes itself (docs/EMBEDDING.md, \"Compaction\")")
            }
            node.logger.info("node \(configuration.name) ready")
            return addresses
        }
    }

    private func bootAndListen() throws(Failure) -> [NodeAddress] {
        node.boot()
        // An in-process node listens nowhere and owns no pid file: the app
        // its tests belong to may be running, on those very files.
        if configuration.inProcess { return [] }
        var addresses: [NodeAddress] = []
        for address in configuration.listen {
            do {
                addresses.append(try node.listen(on: address, cookie: cookie))
            } catch {
                node.stop(reason: "cannot listen on \(address)")
                throw .listen(address: address, error)
            }
        }
        // Only once the node listens: a node that cannot listen (another
        // answers there) must not touch the running one's pid file.
        if let pidFile = configuration.pidFile {
            do {
                try writeFileAtomically(pidFile, Array("\(getpid())\n".utf8), durable: false)
            } catch {
                node.stop(reason: "cannot write \(pidFile)")
                throw .pidFile(path: pidFile, error)
            }
            // Run at once if `hot stop` came in the meantime.
            node.atShutdown { unlink(pidFile) }
        }
        if let fleet = configuration.fleet {
            do throws(Failure) { try startFollower(fleet, addresses: addresses) } catch {
                node.stop(reason: "cannot follow fleet \(fleet.name)")
                throw error
            }
        }
        return addresses
    }

    /// `start()` on a thread of its own, for a caller in async code: a
    /// boot's loads and trial loads can take seconds, and must not hold one
    /// of the few threads of Swift's cooperative pool meanwhile.
    @discardableResult
    public func start() async throws(Failure) -> [NodeAddress] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[NodeAddress], Failure>, Never>) in
            let run: @Sendable () -> Void = { [self] in
                do throws(Failure) { continuation.resume(returning: .success(try start())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            // Without a thread of its own the start runs here, holding a pool thread meanwhile.
            do { try startThread(run) } catch { run() }
        }
        return try result.get()
    }

    /// Lets the node compact (docs/ARCHITECTURE.md, "Compaction"): re-execute
    /// this executable with `arguments` (`CommandLine.arguments`), on `hot
    /// compact` or past the configuration's threshold. Only a process that
    /// is nothing but a node may; `hotnode` does, a server that embeds a node
    /// does not (docs/EMBEDDING.md, "Compaction").
    public func allowCompaction(arguments: [String]) {
        node.allowCompaction(arguments: arguments, threshold: configuration.compaction)
    }

    /// Stops the node (`Node.stop`): listeners closed, socket and pid files
    /// removed, control connections shut down. The process goes on.
    public func stop(reason: String) { node.stop(reason: reason) }

    /// Blocks the calling thread until the node has stopped (`stop`, or `hot stop`).
    public func waitUntilStopped() { node.waitUntilStopped() }

    /// Returns once the node has stopped (`stop`, or `hot stop`).
    public func stopped() async { await node.stopped() }

    /// Whether modules can bind to this process's copy of the SDK: the
    /// executable must put its symbols in the dynamic symbol table
    /// (docs/ARCHITECTURE.md, "Fact: one-SDK"). Without it every load would
    /// fail on an undefined `$s3Hot…` symbol; this says so at start instead.
    public static func checkSDKExported() throws(Failure) {
        // dlsym(RTLD_DEFAULT, …): RTLD_DEFAULT is the null handle.
        _ = dlerror()
        guard dlsym(nil, sdkProbe) != nil else { throw .sdkNotExported }
    }

    /// Why a node could not be made or started.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The executable was linked without `-Xlinker --export-dynamic`.
        case sdkNotExported
        /// The cookie file is missing, unreadable or not owner-only.
        case cookie(Cookie.Failure)
        /// The project's `.hot/` (or a local node's folder in it) cannot be made.
        case projectFolder(path: String, SystemError)
        /// The state folder cannot be made.
        case stateFolder(path: String, SystemError)
        /// An address cannot be listened on.
        case listen(address: NodeAddress, SystemError)
        /// The pid file cannot be written.
        case pidFile(path: String, SystemError)
        /// `start` after the node stopped: a stopped node does not start again.
        case stopped
        /// The configuration's fleet cannot be followed.
        case fleet(String)

        public var description: String {
            switch self {
            case .sdkNotExported:
                "this executable does not export the Hot SDK to hot modules: link it with -Xlinker --export-dynamic (in Package.swift: linkerSettings: [.unsafeFlags([\"-Xlinker\", \"--export-dynamic\"])])"
            case .cookie(let failure): failure.description
            case .projectFolder(let path, let error): "cannot make \(path): \(error)"
            case .stateFolder(let path, let error): "cannot use state folder \(path): \(error)"
            case .listen(let address, let error): "cannot listen on \(address): \(error)"
            case .pidFile(let path, let error): "cannot write pid file \(path): \(error)"
            case .stopped: "the node has stopped; make a new NodeHost to run it again"
            case .fleet(let reason): "cannot follow the fleet: \(reason)"
            }
        }
    }
}
