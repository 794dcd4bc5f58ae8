import HotPlatform

/// When a node compacts by itself (docs/ARCHITECTURE.md, "Compaction"):
/// after `loads` versions mapped since it started (or last compacted), or
/// once `retainedBytes` of versions no longer current or old are kept
/// mapped; a nil field never triggers. hot.json's `compact` object
/// (`afterLoads`, `afterRetainedBytes`) says it for a project, and `hot
/// start` passes it to `hotnode` in its `NodeFlags`.
public struct CompactionThreshold: Codable, Sendable, Equatable {
    public var loads: Int?
    public var retainedBytes: Int?

    public init(loads: Int? = nil, retainedBytes: Int? = nil) {
        self.loads = loads
        self.retainedBytes = retainedBytes
    }

    /// Why the fields do not make a threshold, as one line naming the
    /// field; nil when they do.
    public var problem: String? {
        for (field, value) in [("afterLoads", loads), ("afterRetainedBytes", retainedBytes)] {
            if let value, value <= 0 { return "\"compact.\(field)\" must be a whole number above 0, not \(value)" }
        }
        return nil
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case loads = "afterLoads"
        case retainedBytes = "afterRetainedBytes"
    }

    /// Reads hot.json's `compact`; a field it does not know (a misspelt
    /// one, which would otherwise never trigger) is refused, naming the
    /// ones it takes.
    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownFields(in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        loads = try c.decodeIfPresent(Int.self, forKey: .loads)
        retainedBytes = try c.decodeIfPresent(Int.self, forKey: .retainedBytes)
    }
}

extension CompactionThreshold: SettingsObject {
    typealias Field = CodingKeys
    static let place = "\"compact\""
}
