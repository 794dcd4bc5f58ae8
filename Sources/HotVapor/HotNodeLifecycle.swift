// Built only with the package trait `Vapor`: without it this target is
// empty and Vapor is not part of the build.
#if Vapor
#if canImport(Glibc)
import Glibc
#endif
import HotNode
import HotPlatform
import Vapor

/// A Hot node as a Vapor `LifecycleHandler`: `app.lifecycle.use(hot)` and it
/// starts as the application boots, before it serves, and stops when the
/// application shuts down.
///
/// Booting starts the node (boot of the permanent set, listeners, pid file;
/// nothing if the host started it already), from `willBoot`, so every other
/// handler's `didBoot` and the first request find its modules. Shutdown
/// (`app.asyncShutdown()`) stops it cleanly (listeners closed, socket and pid
/// files removed, no `exit`). `hot stop` stops the node too, and the handler
/// then stops the running application, as Vapor's own SIGTERM handling does
/// (`app.running?.stop()`), so `app.execute()` returns, the app shuts down in
/// order, and `hot stop` ends the server as it ends `hotnode`.
public struct HotNodeLifecycle: LifecycleHandler {
    /// The node this handler runs.
    public let host: NodeHost
    private let watch = NodeStopWatcher()

    /// The handler of a node already made (and perhaps started) by the host.
    public init(_ host: NodeHost) {
        self.host = host
    }

    /// The handler of the node `configuration` describes; see `NodeHost.init`.
    public init(_ configuration: NodeConfiguration) throws(NodeHost.Failure) {
        self.init(try NodeHost(configuration))
    }

    /// The handler of the project's local node, the one `hot start` would
    /// run (`NodeConfiguration.project(root:node:)`). In a test bundle it is
    /// an in-process node (`NodeConfiguration.inProcess`; docs/EMBEDDING.md,
    /// "Testing a host in-process"), which the test's boot of the
    /// application starts like any other.
    public static func project(root: String? = nil) throws -> HotNodeLifecycle {
        try HotNodeLifecycle(try NodeConfiguration.project(root: root))
    }

    /// The node: its code server and the typed handles of its exports.
    public var node: Node { host.node }

    public func willBootAsync(_ application: Application) async throws {
        // On a thread of its own: the boot's loads and trials never hold a
        // thread of the cooperative pool.
        try await host.start()
        watch.begin(host, application)
    }

    public func willBoot(_ application: Application) throws {
        try host.start()
        watch.begin(host, application)
    }

    public func shutdownAsync(_ application: Application) async {
        watch.end(host, reason: "application shutdown")
        await host.stopped()
        await watch.finished()
    }

    public func shutdown(_ application: Application) {
        watch.end(host, reason: "application shutdown")
        host.waitUntilStopped()
    }
}

/// The task that waits for the node to stop and, when `hot stop` stopped it
/// rather than the application's shutdown, stops the application. Vapor's
/// lifecycle has no task of its own to run it in, so the handler starts one
/// at boot and awaits its end at shutdown.
private final class NodeStopWatcher: Sendable {
    private struct State {
        var task: Task<Void, Never>?
        var shuttingDown = false
    }

    private let state = Locked(State())

    /// Starts the task, once.
    func begin(_ host: NodeHost, _ application: Application) {
        state.withLock { state in
            guard state.task == nil, !state.shuttingDown else { return }
            state.task = Task { [self] in
                await host.stopped()
                guard !self.state.withLock({ $0.shuttingDown }) else { return }
                // An in-process node has no listener for `hot stop` to reach,
                // and its process is a test run, not a server.
                guard !host.configuration.inProcess else { return }
                if let running = application.running {
                    application.logger.info("hot stop: the node stopped, stopping the application")
                    running.stop()
                } else {
                    // Not serving yet (or a command other than `serve`):
                    // ending the process is what stops it, as a signal would.
                    kill(getpid(), SIGTERM)
                }
            }
        }
    }

    /// Marks the shutdown as the application's own, then stops the node.
    func end(_ host: NodeHost, reason: String) {
        state.withLock { $0.shuttingDown = true }
        host.stop(reason: reason)
    }

    /// Returns once the task, if started, has seen the node stop.
    func finished() async {
        await state.withLock { $0.task }?.value
    }
}
#endif
