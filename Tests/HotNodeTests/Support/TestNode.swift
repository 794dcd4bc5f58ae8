#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Logging

@testable import HotNode

/// A node over a `FakeLoader`, with its state and code folders in a
/// temporary folder. `close` stops every process the test left and removes
/// the folder; call it in a `defer`.
final class TestNode: Sendable {
    let folder: String
    let loader = FakeLoader()
    let node: Node

    var codeServer: CodeServer { node.codeServer }
    /// The build folder interactive mode and boot read: `<codePath>/<module>/<file>`.
    var codePath: String { folder + "/code" }

    init(mode: Node.Mode = .embedded, sticky: Set<String> = [], purgeTimeout: Double = 0.3, callsTimeout: Double = 0.3,
         metrics: NodeMetrics = NodeMetrics(), limits: NodeLimits = NodeLimits(),
         logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        var template = Array("/tmp/hotnode-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        folder = String(cString: made)
        do {
            try makeDirectories(folder + "/code")
            node = Node(
                name: "test", store: try Store(root: folder + "/state"), codePath: folder + "/code", mode: mode,
                sticky: sticky, loader: loader, purgeTimeout: .seconds(purgeTimeout), callsTimeout: .seconds(callsTimeout), metrics: metrics, limits: limits,
                logger: logger)
        } catch {
            removeTree(folder)
            throw error
        }
    }

    /// The number the module's current version reports through an external
    /// call; nil when the call finds no module.
    func calledVersion(_ module: String) throws -> Int? {
        do {
            guard case .int(let version) = try codeServer.exports.call(module, "version", []) else { return nil }
            return version
        } catch CallError.undefinedModule {
            return nil
        }
    }

    /// The version numbers current and old for `module`, in that order.
    func versions(_ module: String) -> [Int?] {
        let (current, old) = codeServer.versions(module)
        return [current?.version, old?.version]
    }

    /// Spawns a process running `module:function()` in the module's current version.
    func spawn(_ module: String, _ function: String = "wait") throws -> Pid {
        try node.kernel.spawn(module, function, [], name: nil)
    }

    /// Whether the process is still in the table.
    func isAlive(_ pid: Pid) -> Bool { node.processes.process(pid) != nil }

    /// Sends a message to a process; its `wait` body then ends.
    func poke(_ pid: Pid) { _ = node.kernel.send(.null, to: pid) }

    /// Waits (on the process table's condition) until `pid` has ended; false after 5 s.
    func waitForEnd(_ pid: Pid) -> Bool { node.processes.waitForEnd(of: [pid], until: .now + .seconds(5)).isEmpty }

    /// Writes an empty object of `module` v`version` where a build puts it,
    /// served by the fake loader; its path.
    @discardableResult
    func build(_ module: String, _ version: Int, key: String = FakeLoader.key("a"), host: String? = nil) throws -> String {
        let folder = "\(codePath)/\(module)"
        try makeDirectories(folder)
        let path = loader.add(module, version, key: key, folder: folder, host: host)
        try writeFileAtomically(path, [])
        return path
    }

    func close() {
        // Tracked tasks are cancelled, not waited for: a test may close on the cooperative pool they need.
        node.codeServer.tasks.cancel(node.codeServer.tasks.all().map(\.id))
        let pids = node.processes.all().map(\.process.pid)
        for entry in node.processes.all() { entry.process.mailbox.cancel() }
        let left = node.processes.waitForEnd(of: pids, until: .now + .seconds(5))
        precondition(left.isEmpty, "processes \(left) did not stop: a test left one blocked")
        removeTree(folder)
    }
}

/// A gate a process body blocks on, deaf to cancellation: the stubborn
/// process a purge cannot stop.
final class Gate: @unchecked Sendable {
    // @unchecked: `isOpen` is guarded by `condition`.
    private let condition = Condition()
    private var isOpen = false

    /// Blocks until `open` is called.
    func pass() {
        condition.withLock {
            while !isOpen { _ = condition.wait(until: nil) }
        }
    }

    func open() {
        condition.withLock {
            isOpen = true
            condition.broadcast()
        }
    }
}

/// Runs `body` on a thread of its own and waits for it without blocking a
/// thread of Swift's cooperative pool: a load that waits for calls in
/// flight must not hold a thread those calls need to end.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        try! startThread { continuation.resume(with: Result { try body() }) }
    }
}
