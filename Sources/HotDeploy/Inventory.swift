import Hot
import HotPlatform
import HotWire

/// The nodes a deploy reaches: a nodes file (`{"nodes": {NAME: ADDRESS},
/// "groups": {GROUP: [NAME]}}`, or a plain `{NAME: ADDRESS}` map), read into
/// name → address.
public struct Inventory: Sendable {
    /// Node addresses by name.
    public let nodes: [String: NodeAddress]
    /// Groups of node names.
    public let groups: [String: [String]]

    /// Why a nodes file could not be used.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case unreadable(path: String)
        case malformed(path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path): "cannot read nodes file \(path)"
            case .malformed(let path, let reason):
                "nodes file \(path): \(reason); write {\"nodes\": {\"name\": \"unix:PATH | tcp://HOST:PORT | ssh://[USER@]HOST[:PORT]/SOCKET\"}}"
            }
        }
    }

    /// An inventory from its parts.
    public init(nodes: [String: NodeAddress], groups: [String: [String]] = [:]) {
        self.nodes = nodes
        self.groups = groups
    }

    /// Reads a nodes file.
    public static func load(_ path: String) throws(Failure) -> Inventory {
        guard let bytes = readFile(path) else { throw .unreadable(path: path) }
        let term: Term
        do { term = try JSON.parse(bytes) } catch { throw .malformed(path: path, reason: error.description) }
        let nodeMap = term["nodes"] ?? term
        guard case .map(let entries) = nodeMap else { throw .malformed(path: path, reason: "\"nodes\" must be an object") }
        var nodes: [String: NodeAddress] = [:]
        for (name, value) in entries where name != "groups" {
            guard let text = value.stringValue, let address = NodeAddress(parsing: text) else {
                throw .malformed(path: path, reason: "node '\(name)' has no valid address")
            }
            nodes[name] = address
        }
        var groups: [String: [String]] = [:]
        if case .map(let groupEntries)? = term["groups"] {
            for (group, members) in groupEntries {
                guard let list = members.listValue?.compactMap(\.stringValue) else {
                    throw .malformed(path: path, reason: "group '\(group)' must be a list of node names")
                }
                for member in list where nodes[member] == nil {
                    throw .malformed(path: path, reason: "group '\(group)' names unknown node '\(member)'")
                }
                groups[group] = list
            }
        }
        guard !nodes.isEmpty else { throw .malformed(path: path, reason: "no nodes") }
        return Inventory(nodes: nodes, groups: groups)
    }
}
