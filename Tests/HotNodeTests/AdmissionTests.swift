import HotWire
import Testing

@testable import HotNode

/// Who keeps a handshake slot when there is no room, and how refusals reach the log.
@Suite struct AdmissionTests {
    /// An instant `seconds` after a fixed start.
    private let start = ContinuousClock.now
    private func at(_ seconds: Double) -> ContinuousClock.Instant { start + .seconds(seconds) }

    private let stranger = Peer.process(uid: 1000, pid: 4242)
    private let client = Peer.process(uid: 1000, pid: 77)

    @Test("a flood from one source never evicts another source's handshake")
    func floodEvictsOnlyItself() {
        var slots = HandshakeSlots<Int>(capacity: 32, perSource: 8)
        #expect(slots.admit(0, from: client, at: at(0)) == nil)
        var evicted: [Int] = []
        for i in 1...10_000 {
            if let out = slots.admit(i, from: stranger, at: at(Double(i))) { evicted.append(out) }
        }
        #expect(slots.contains(0), "the client's handshake was evicted by the flood")
        #expect(!evicted.contains(0))
        #expect(slots.count == 9, "the flood keeps its own 8 slots, the client its 1")
        // The source's own oldest goes first.
        #expect(evicted.prefix(3) == [1, 2, 3])
    }

    @Test("when the node is full, the source holding the most slots loses its oldest")
    func fullNodeEvictsTheCrowdedSource() {
        var slots = HandshakeSlots<Int>(capacity: 4, perSource: 3)
        _ = slots.admit(1, from: .host("10.0.0.1"), at: at(1))
        _ = slots.admit(2, from: .host("10.0.0.2"), at: at(2))
        _ = slots.admit(3, from: .host("10.0.0.2"), at: at(3))
        _ = slots.admit(4, from: .host("10.0.0.3"), at: at(4))
        #expect(slots.admit(5, from: .host("10.0.0.4"), at: at(5)) == 2)
        #expect(slots.contains(1) && slots.contains(3) && slots.contains(4) && slots.contains(5))
        let freed = slots.remove(3)
        let freedEvicted = slots.remove(2)
        #expect(freed)
        #expect(!freedEvicted, "an evicted connection holds no slot")
    }

    @Test("a flood of refusals gives a line per interval, not a line per connection")
    func refusalsAreSummarized() {
        var tally = RefusalTally(interval: .seconds(10))
        let first = tally.record(.badCookie, detail: "uid 1000 pid 7: the cookie was refused", at: at(100))
        #expect(first == "connection refused (bad cookie): uid 1000 pid 7: the cookie was refused")
        var lines: [String] = []
        for i in 0..<12_227 {
            let reason: Refusal = i.isMultiple(of: 3) ? .handshakeTimeout : .closed
            if let line = tally.record(reason, detail: "", at: at(100 + Double(i) / 2_000)) { lines.append(line) }
        }
        #expect(lines.isEmpty, "refusals inside the interval are counted, not logged: \(lines.prefix(2))")
        #expect(tally.flush(at: at(105)) == nil)
        let summary = tally.flush(at: at(110))
        #expect(summary == "refused 12227 more connections in the last 10 s (handshake timeout: 4076, closed by the peer: 8151)")
        #expect(tally.flush(at: at(200)) == nil, "nothing left to say")
        #expect(tally.record(.evicted, detail: "d", at: at(200)) == "connection refused (evicted by newer connections): d")
    }
}
