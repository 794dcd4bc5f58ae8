import CoreMetrics
import Hot
import HotPlatform
import Synchronization
import Testing

@testable import HotNode

/// The node's figures through swift-metrics, read back from a factory of
/// this test's own (the process-wide bootstrap stays untouched).
@Suite("Metrics")
struct MetricsTests {
    @Test("loads, refused loads, calls, failed calls, calls in flight, versions and retained bytes reach the backend")
    func figures() async throws {
        let factory = RecordingFactory()
        let t = try TestNode(purgeTimeout: 5, metrics: NodeMetrics(factory: factory))
        defer { t.close() }
        let web = AsyncCallTests.Web()
        _ = try web.load(t, 1)
        _ = try web.load(t, 2)
        #expect(throws: LoadError.self) { try t.codeServer.load(["/fake/nothing.v9-aaaaaaaaaaaa.so"]) }
        #expect(factory.value("hot_loads_total") == 2)
        #expect(factory.value("hot_loads_refused_total") == 1)
        #expect(factory.value("hot_versions") == 2)

        let hello = t.node.function("web", "hello", ((String) async throws -> String).self)
        let pair = t.node.function("web", "pair", ((Int, Int) async throws -> Int).self)
        for _ in 0..<3 { _ = try await hello("x") }
        let exports = t.codeServer.exports
        _ = try await offPool { try exports.call("web", "hello", [.string("term")]) }
        let slow = t.node.function("web", "slow", ((Int) async throws -> String).self)
        let call = Task { try await slow(1) }
        while t.codeServer.versions("web").current?.calls.inFlight != 1 { try await Task.sleep(for: .milliseconds(1)) }
        t.codeServer.metrics.publish(t.codeServer)
        #expect(factory.value("hot_calls_total") == 5)
        #expect(factory.value("hot_calls_in_flight") == 1)
        #expect(factory.value("hot_calls_failed_total") == 0)

        // The purge before v4 cancels the slow call (in v2, old by then): one failed call; v1 and v2 stay mapped.
        _ = try await offPool { try web.load(t, 3, purge: true) }
        _ = try await offPool { try web.load(t, 4, purge: true) }
        _ = try? await call.value
        _ = try await pair(1, 2)
        t.codeServer.metrics.publish(t.codeServer)
        #expect(factory.value("hot_calls_total") == 6)
        #expect(factory.value("hot_calls_failed_total") == 1)
        #expect(factory.value("hot_calls_in_flight") == 0)
        #expect(factory.value("hot_loads_total") == 4)
        #expect(factory.value("hot_versions") == 4)
        #expect(factory.value("hot_retained_bytes") == Int64(2 * 4096))
    }
}

/// A metrics backend that keeps each counter's sum and each gauge's last value by label.
final class RecordingFactory: MetricsFactory, Sendable {
    private let values = Mutex<[String: Int64]>([:])

    func value(_ label: String) -> Int64? { values.withLock { $0[label] } }

    fileprivate func add(_ label: String, _ amount: Int64) { values.withLock { $0[label, default: 0] += amount } }
    fileprivate func set(_ label: String, _ value: Int64) { values.withLock { $0[label] = value } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        values.withLock { $0[label] = $0[label] ?? 0 }
        return Handler(label: label, factory: self)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(label: label, factory: self)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(label: label, factory: self) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let label: String
        let factory: RecordingFactory
        init(label: String, factory: RecordingFactory) {
            self.label = label
            self.factory = factory
        }
        func increment(by amount: Int64) { factory.add(label, amount) }
        func reset() { factory.set(label, 0) }
        func record(_ value: Int64) { factory.set(label, value) }
        func record(_ value: Double) { factory.set(label, Int64(value)) }
        func recordNanoseconds(_ duration: Int64) {}
    }
}
