import HotWire

/// The connections still in their handshake, and which one to drop when a
/// new one arrives and there is no room: a stranger flooding the node must
/// not be able to push out the handshake of a client that holds the cookie.
///
/// Each connection counts against its source (`Peer`). A source at its own
/// cap loses its own oldest connection; when the node as a whole is full,
/// the source holding the most slots loses its oldest. So a flood from one
/// source only ever evicts itself, and a lone client from another source is
/// left to finish.
struct HandshakeSlots<ID: Hashable> {
    /// Slots for the whole node.
    let capacity: Int
    /// Slots for one source.
    let perSource: Int
    private var pending: [ID: (source: Peer, since: ContinuousClock.Instant)] = [:]
    private var bySource: [Peer: Int] = [:]

    init(capacity: Int, perSource: Int) {
        precondition(perSource >= 1 && capacity >= perSource)
        self.capacity = capacity
        self.perSource = perSource
    }

    /// Connections holding a slot.
    var count: Int { pending.count }

    /// Whether `id` holds a slot.
    func contains(_ id: ID) -> Bool { pending[id] != nil }

    /// Gives `id` a slot; returns the connection evicted to make room, if any.
    mutating func admit(_ id: ID, from source: Peer, at time: ContinuousClock.Instant) -> ID? {
        var evicted: ID?
        if bySource[source, default: 0] >= perSource {
            evicted = oldest(of: source)
        } else if pending.count >= capacity, let crowded = bySource.max(by: { $0.value < $1.value })?.key {
            evicted = oldest(of: crowded)
        }
        if let evicted { remove(evicted) }
        pending[id] = (source, time)
        bySource[source, default: 0] += 1
        return evicted
    }

    /// Frees `id`'s slot; false if it had none (it was evicted).
    @discardableResult
    mutating func remove(_ id: ID) -> Bool {
        guard let entry = pending.removeValue(forKey: id) else { return false }
        let left = bySource[entry.source, default: 1] - 1
        bySource[entry.source] = left > 0 ? left : nil
        return true
    }

    private func oldest(of source: Peer) -> ID? {
        pending.filter { $0.value.source == source }.min { $0.value.since < $1.value.since }?.key
    }
}

/// Why the node refused a connection before it was authenticated.
enum Refusal: String, CaseIterable, Sendable {
    case handshakeTimeout = "handshake timeout"
    case badCookie = "bad cookie"
    case evicted = "evicted by newer connections"
    case malformed = "malformed handshake"
    case closed = "closed by the peer"
    case tooManyConnections = "too many connections"
    case other = "other"

    init(_ error: WireError, evicted: Bool) {
        if evicted {
            self = .evicted
            return
        }
        switch error {
        case .timedOut: self = .handshakeTimeout
        case .authenticationFailed: self = .badCookie
        case .closed: self = .closed
        case .frameTooLarge, .malformedFrame, .unknownFrameType, .unexpectedFrame, .badMessage, .badMAC: self = .malformed
        case .system, .refused: self = .other
        }
    }
}

/// Counts refused connections so that the log gets a line per interval, not
/// a line per connection: a flood must not fill the disk through the log.
/// The first refusal after a quiet interval is logged with its detail; the
/// rest of the interval is summed up in one line at its end.
struct RefusalTally {
    /// Between summary lines.
    let interval: Duration
    private var counts: [Refusal: Int] = [:]
    /// When the last line was logged; nil before the first.
    private var lastLine: ContinuousClock.Instant?

    init(interval: Duration) { self.interval = interval }

    /// Counts a refusal at `time`; returns a line to log now, if any.
    mutating func record(_ refusal: Refusal, detail: String, at time: ContinuousClock.Instant) -> String? {
        if counts.isEmpty && lastLine.map({ time - $0 >= interval }) ?? true {
            lastLine = time
            return "connection refused (\(refusal.rawValue)): \(detail)"
        }
        counts[refusal, default: 0] += 1
        return flush(at: time)
    }

    /// When the refusals counted and not yet logged are due for their
    /// summary; nil when there are none.
    var due: ContinuousClock.Instant? { counts.isEmpty ? nil : lastLine.map { $0 + interval } }

    /// The summary of the refusals not yet logged, once the interval is over.
    mutating func flush(at time: ContinuousClock.Instant) -> String? {
        guard !counts.isEmpty, let last = lastLine, time - last >= interval else { return nil }
        let total = counts.values.reduce(0, +)
        let parts = Refusal.allCases.compactMap { reason in counts[reason].map { "\(reason.rawValue): \($0)" } }
        let span = Int(((time - last) / .seconds(1)).rounded())
        counts = [:]
        lastLine = time
        return "refused \(total) more connection\(total == 1 ? "" : "s") in the last \(span) s (\(parts.joined(separator: ", ")))"
    }
}
