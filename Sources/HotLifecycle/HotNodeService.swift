// Built only with the package trait `Hummingbird`: without it this target is
// empty and swift-service-lifecycle is not part of the build.
#if Hummingbird
#if canImport(Glibc)
import Glibc
#endif
import HotNode
import ServiceLifecycle

/// A Hot node as a swift-service-lifecycle `Service`: put it in a
/// `ServiceGroup` (or Hummingbird's `Application(services:)`) and it starts
/// with the server and stops on graceful shutdown.
///
/// `run()` starts the node (boot, listeners, pid file; nothing if the host
/// started it already) and returns once the node has stopped. Graceful
/// shutdown or cancellation of the service group stops it cleanly (listeners
/// closed, socket and pid files removed, no `exit`). `hot stop` stops it too,
/// and then the service sends the process SIGTERM, as an operator would:
/// `hot stop` ends `hotnode`, and the server's own signal handling (Hummingbird's
/// `runService` and `ServiceGroup` take SIGTERM as graceful shutdown) shuts
/// it down in order. A service that returned early instead would count as
/// failed, and the group would end with an error.
public struct HotNodeService: Service {
    /// The node this service runs.
    public let host: NodeHost

    /// The service of a node already made (and perhaps started) by the host.
    public init(_ host: NodeHost) {
        self.host = host
    }

    /// The service of the node `configuration` describes; see `NodeHost.init`.
    /// An in-process node starts here already (see `project(root:)`).
    public init(_ configuration: NodeConfiguration) throws(NodeHost.Failure) {
        self.host = try NodeHost(configuration)
        if configuration.inProcess { try host.start() }
    }

    /// The service of the project's local node, the one `hot start` would
    /// run (`NodeConfiguration.project(root:node:)`). In a test bundle it is
    /// an in-process node (`NodeConfiguration.inProcess`; docs/EMBEDDING.md,
    /// "Testing a host in-process"), started here: HummingbirdTesting runs
    /// the services beside the test, not before it, and the test's first
    /// request must find the built-in versions booted. Booting them takes
    /// no trial and no file of the project.
    public static func project(root: String? = nil) throws -> HotNodeService {
        try HotNodeService(try NodeConfiguration.project(root: root))
    }

    /// The node: its code server and the typed handles of its exports.
    public var node: Node { host.node }

    public func run() async throws {
        let host = self.host
        try await host.start()
        await withTaskCancellationOrGracefulShutdownHandler {
            await host.stopped()
        } onCancelOrGracefulShutdown: {
            host.stop(reason: "graceful shutdown")
        }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        // Only `hot stop` ends a server's node this way; an in-process one
        // has no listener, and its process is a test run, not a server.
        if !host.configuration.inProcess { kill(getpid(), SIGTERM) }
        // Back when the group begins its graceful shutdown, or is cancelled.
        try? await gracefulShutdown()
    }
}
#endif
