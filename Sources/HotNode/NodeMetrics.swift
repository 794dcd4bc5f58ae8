#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import HotPlatform

/// The node's figures through swift-metrics, for the host's backend:
///
/// | label | kind | what |
/// |---|---|---|
/// | `hot_loads_total` | counter | versions made current by loads |
/// | `hot_loads_refused_total` | counter | loads refused |
/// | `hot_calls_total` | counter | async calls through typed handles and the term bridge |
/// | `hot_calls_failed_total` | counter | those that threw |
/// | `hot_calls_in_flight` | gauge | async calls running now, in any version |
/// | `hot_versions` | gauge | versions loaded (mapped) |
/// | `hot_retained_bytes` | gauge | bytes of versions no longer current or old |
///
/// A call pays nothing to the metrics API: calls are counted in each
/// version's atomics (`CallsInFlight`), and `publish` reads them from a
/// reporter thread, adding each counter's growth since the last
/// publication. A load publishes only its own three figures
/// (`publishLoads`), which cost nothing to read: summing every version's
/// calls on the load path made swaps slower as versions piled up.
public final class NodeMetrics: Sendable {
    private let loads: Counter
    private let refused: Counter
    private let calls: Counter
    private let failedCalls: Counter
    private let inFlight: Gauge
    private let versions: Gauge
    private let retainedBytes: Gauge
    /// The totals last published; the lock also keeps two publications from interleaving.
    private let published = Locked(Figures())
    private let stopped = Latch()

    /// The node's figures at one moment.
    struct Figures {
        var loads = 0, refused = 0, calls = 0, failedCalls = 0, inFlight = 0, versions = 0, retainedBytes = 0
    }

    /// The node's metrics, made by `factory` (the one the host bootstrapped, by default).
    init(factory: any MetricsFactory = MetricsSystem.factory) {
        loads = Counter(label: "hot_loads_total", factory: factory)
        refused = Counter(label: "hot_loads_refused_total", factory: factory)
        calls = Counter(label: "hot_calls_total", factory: factory)
        failedCalls = Counter(label: "hot_calls_failed_total", factory: factory)
        inFlight = Gauge(label: "hot_calls_in_flight", factory: factory)
        versions = Gauge(label: "hot_versions", factory: factory)
        retainedBytes = Gauge(label: "hot_retained_bytes", factory: factory)
    }

    /// Publishes the figures a load changes: loads, refused loads, versions.
    func publishLoads(_ server: CodeServer) {
        let (loadCount, refusedCount, versionCount) = server.loadFigures()
        published.withLock { last in
            loads.increment(by: Int64(loadCount - last.loads))
            refused.increment(by: Int64(refusedCount - last.refused))
            versions.record(versionCount)
            last.loads = loadCount
            last.refused = refusedCount
            last.versions = versionCount
        }
    }

    /// Publishes `server`'s figures now.
    func publish(_ server: CodeServer) {
        let now = server.figures()
        published.withLock { last in
            loads.increment(by: Int64(now.loads - last.loads))
            refused.increment(by: Int64(now.refused - last.refused))
            calls.increment(by: Int64(now.calls - last.calls))
            failedCalls.increment(by: Int64(now.failedCalls - last.failedCalls))
            inFlight.record(now.inFlight)
            versions.record(now.versions)
            retainedBytes.record(now.retainedBytes)
            last = now
        }
    }

    /// Publishes `server`'s figures every `interval` on a thread of its own,
    /// until `stop` or until the code server is gone. Without a thread to
    /// be had the figures are not published, and the node runs on.
    func report(_ server: CodeServer, every interval: Duration) throws(SystemError) {
        try startThread { [weak server, self] in
            // The tick is the event: between ticks only `stop` can end the wait.
            while !stopped.wait(until: .now + interval) {
                guard let server else { return }
                publish(server)
            }
        }
    }

    /// Ends the reporter thread at once.
    public func stop() { stopped.open() }
}
