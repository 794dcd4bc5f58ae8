#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotWire
import Logging
import Synchronization

/// A running node: its code server, its store, its control listeners.
public final class Node: Sendable {
    /// The node's name, announced in every handshake.
    public let name: String
    /// The owner of the module table.
    public let codeServer: CodeServer
    /// The state folder.
    public let store: Store
    /// Where `interactive` boot finds built versions: `<dir>/<module>/<module>.vN-KEY.so`.
    public let codePath: String?
    let logger: Logger
    private let listeners = Mutex<[Listener]>([])
    private let onShutdown = Mutex<[@Sendable () -> Void]>([])

    /// A node with no modules loaded yet.
    public init(name: String, store: Store, codePath: String?, sticky: Set<String> = [], logger: Logger) {
        self.name = name
        self.store = store
        self.codePath = codePath
        self.codeServer = CodeServer(sticky: sticky)
        self.logger = logger
    }

    /// Loads the newest built version of every module under the code path.
    /// A module that fails to load is logged and skipped: one bad module must
    /// not keep the others from booting.
    public func boot() {
        guard let codePath else { return }
        for module in listDirectory(codePath).sorted() where HotSDK.isValidModuleName(module) {
            let newest = listDirectory("\(codePath)/\(module)")
                .compactMap { ArtifactName(fileName: $0) }
                .filter { $0.module == module }
                .max { $0.version < $1.version }
            guard let newest else { continue }
            do {
                let results = try codeServer.load(["\(codePath)/\(module)/\(newest.fileName)"])
                for r in results { logger.info("booted \(r.module) v\(r.to)") }
            } catch {
                logger.error("could not boot \(module) v\(newest.version): \(error)")
            }
        }
    }

    /// Listens on `address` and serves it on a thread of its own.
    public func listen(on address: NodeAddress, cookie: [UInt8]) throws(SystemError) -> NodeAddress {
        let listener = try Listener.listen(on: address)
        listeners.withLock { $0.append(listener) }
        let server = ControlServer(node: self, cookie: cookie)
        startThread { server.serve(listener) }
        logger.info("listening on \(listener.address)")
        return listener.address
    }

    /// Runs `action` at shutdown (the pid file's removal, say).
    public func atShutdown(_ action: @escaping @Sendable () -> Void) {
        onShutdown.withLock { $0.append(action) }
    }

    /// Closes the listeners (removing socket files), runs the shutdown
    /// actions, and exits the process with status 0.
    public func shutdown(reason: String) -> Never {
        logger.info("stopping: \(reason)")
        for listener in listeners.withLock({ $0 }) { listener.close() }
        for action in onShutdown.withLock({ $0 }) { action() }
        exit(0)
    }

    /// The document of `hot status --json`.
    public func statusDocument() -> Term {
        let modules: [Term] = codeServer.snapshot().map { m in
            [
                "name": .string(m.name),
                "current": m.current.map { v in
                    [
                        "version": .int(v.version), "key": .string(v.key), "commit": v.commit.map { .string($0) } ?? .null,
                        "loadedAt": .double(v.loadedAt), "file": .string(lastComponent(v.path)), "bytes": .int(v.bytes),
                        "exports": .list(v.exports.keys.sorted().map { .string($0) }),
                    ]
                } ?? .null,
                "old": m.old.map { v in ["version": .int(v.version), "processes": .int(0), "key": .string(v.key)] } ?? .null,
                "sticky": .bool(m.sticky),
                "permanent": .null,
            ]
        }
        return [
            "node": .string(name), "pid": .int(Int(getpid())), "modules": .list(modules), "processes": .list([]),
            "retainedBytes": .int(codeServer.retainedBytes()),
        ]
    }
}

