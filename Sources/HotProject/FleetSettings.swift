import HotPlatform

/// hot.json's `fleet`: the fleet coordinated through etcd that the
/// project's node follows when a server embeds it (docs/FLEETS.md,
/// "An embedded node"). `NodeConfiguration.project` reads it, and the
/// node's host runs its follower. The one spelling of an etcd member and of
/// a fleet's name: `hot`'s `--etcd` and `--fleet` are read by the same rules.
public struct FleetSettings: Codable, Sendable, Equatable {
    /// etcd's members, `http://HOST:PORT` each.
    public var etcd: [String]
    /// The fleet's name in etcd.
    public var name: String
    /// The node's name in the fleet; nil: `NODE@HOST`.
    public var node: String?

    /// Settings from their fields.
    public init(etcd: [String], name: String, node: String? = nil) {
        self.etcd = etcd
        self.name = name
        self.node = node
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case etcd, name, node }

    /// Reads hot.json's `fleet`; `node` may be left out, and a field it does not take is refused.
    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownFields(in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        etcd = try c.decode([String].self, forKey: .etcd)
        name = try c.decode(String.self, forKey: .name)
        node = try c.decodeIfPresent(String.self, forKey: .node)
    }

    /// Why the fields do not make a fleet to follow, as one line naming the
    /// field; nil when they do.
    public var problem: String? {
        if etcd.isEmpty { return "\"fleet.etcd\" needs at least one member, http://HOST:PORT" }
        if let word = etcd.first(where: { Self.endpoint($0) == nil }) { return "\"fleet.etcd\" takes http://HOST:PORT, not \"\(word)\"" }
        if !Self.isValidName(name) { return "\"fleet.name\" takes letters, digits, '-', '_' and '.', not \"\(name)\"" }
        if let node, !Self.isValidNodeID(node) { return "\"fleet.node\" takes letters, digits, '-', '_', '.' and '@', not \"\(node)\"" }
        return nil
    }

    /// The host and port of an etcd member, `http://HOST:PORT` (or
    /// `HOST:PORT`); nil for anything else. No TLS: etcd's own sits in front
    /// of its gateway, and a fleet's releases are signed instead
    /// (docs/FLEETS.md, "Trust").
    public static func endpoint(_ text: String) -> (host: String, port: UInt16)? {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else { return nil }
        let host = String(rest[..<colon])
        guard !host.isEmpty, !host.contains("/"), !host.contains("@") else { return nil }
        return (host, port)
    }

    /// Whether `name` can name a fleet: letters, digits, `-`, `_` and `.`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f || c == 0x2e
            }
    }

    /// Whether `id` can name a node in a fleet: a fleet's name that may hold `@` (`NODE@HOST`).
    public static func isValidNodeID(_ id: String) -> Bool { isValidName(id.replacing("@", with: "-")) }
}

extension FleetSettings: SettingsObject {
    typealias Field = CodingKeys
    static let place = "\"fleet\""
}
