import Hot

/// The work a purge found running in old code, and what became of it: the
/// one value that the code server's results, the `load` and `purge` replies
/// and a deploy's report all carry (docs/PROTOCOL.md, "load" and "purge").
/// On the wire its six fields sit flat in the reply's map beside the others.
public struct StoppedWork: Codable, Sendable, Equatable {
    /// Processes in old code that were stopped.
    public var stopped: [Pid] = []
    /// Processes that would not stop in time: their version stays mapped.
    public var stubborn: [Pid] = []
    /// Async calls in old code that were cancelled.
    public var cancelledCalls = 0
    /// Of those, the calls still running when the purge gave up waiting.
    public var unendedCalls = 0
    /// Tracked tasks in old code that were cancelled (`#3 ticker (hello v1)`).
    public var cancelledTasks: [String] = []
    /// Of those, the tasks still running when the purge gave up waiting:
    /// their version's code stays mapped, as for stubborn processes.
    public var unendedTasks: [String] = []

    /// Nothing stopped: a load without purge, a soft purge, a module with no old code.
    public init() {}

    public init(stopped: [Pid], stubborn: [Pid], cancelledCalls: Int = 0, unendedCalls: Int = 0,
                cancelledTasks: [String] = [], unendedTasks: [String] = []) {
        self.stopped = stopped
        self.stubborn = stubborn
        self.cancelledCalls = cancelledCalls
        self.unendedCalls = unendedCalls
        self.cancelledTasks = cancelledTasks
        self.unendedTasks = unendedTasks
    }

    private enum CodingKeys: String, CodingKey {
        case stopped, stubborn, cancelledCalls, unendedCalls, cancelledTasks, unendedTasks
    }

    /// Reads the fields from the reply's own map. `stopped` and `stubborn`
    /// are required; the other four are absent from nodes that predate them
    /// and read as none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stopped = try Self.pids(container, .stopped)
        stubborn = try Self.pids(container, .stubborn)
        cancelledCalls = try container.decodeIfPresent(Int.self, forKey: .cancelledCalls) ?? 0
        unendedCalls = try container.decodeIfPresent(Int.self, forKey: .unendedCalls) ?? 0
        cancelledTasks = try container.decodeIfPresent([String].self, forKey: .cancelledTasks) ?? []
        unendedTasks = try container.decodeIfPresent([String].self, forKey: .unendedTasks) ?? []
    }

    /// Writes the fields into the reply's own map, pids as `<0.N.0>` strings.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stopped.map(\.description), forKey: .stopped)
        try container.encode(stubborn.map(\.description), forKey: .stubborn)
        try container.encode(cancelledCalls, forKey: .cancelledCalls)
        try container.encode(unendedCalls, forKey: .unendedCalls)
        try container.encode(cancelledTasks, forKey: .cancelledTasks)
        try container.encode(unendedTasks, forKey: .unendedTasks)
    }

    private static func pids(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [Pid] {
        try container.decode([String].self, forKey: key).enumerated().map { index, text in
            guard let pid = Pid(parsing: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "item \(index) is '\(text)', not a pid (<0.N.0>)")
            }
            return pid
        }
    }
}
