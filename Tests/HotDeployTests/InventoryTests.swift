#if canImport(Glibc)
import Glibc
#endif
import HotDeploy
import HotPlatform
import Testing

/// Nodes files, read from real files.
@Suite("Inventory")
struct InventoryTests {
    /// A nodes file in a folder of its own, removed after `body`.
    static func withNodesFile<T>(_ text: String?, _ body: (String) throws -> T) throws -> T {
        var template = Array("/tmp/hot-inventory.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        let dir = String(cString: made)
        defer { removeTree(dir) }
        let path = dir + "/nodes.json"
        if let text { try writeFileAtomically(path, Array(text.utf8)) }
        return try body(path)
    }

    @Test("the full form: nodes by name, and groups of them")
    func fullForm() throws {
        let inventory = try Self.withNodesFile("""
            {"nodes": {"web1": "tcp://10.0.0.1:7000", "web2": "unix:/run/web2.sock", "db": "ssh://ops@db.example:2222/run/hot.sock"},
             "groups": {"web": ["web1", "web2"], "none": []}}
            """) { try Inventory.load($0) }
        #expect(inventory.nodes == [
            "web1": .tcp(host: "10.0.0.1", port: 7000), "web2": .unix(path: "/run/web2.sock"),
            "db": .ssh(user: "ops", host: "db.example", port: 2222, socket: "/run/hot.sock"),
        ])
        #expect(inventory.groups == ["web": ["web1", "web2"], "none": []])
    }

    @Test("the plain form: a map of name to address; a groups key beside the nodes is groups, not a node")
    func plainForm() throws {
        let plain = try Self.withNodesFile(#"{"a": "unix:/tmp/a.sock", "b": "tcp://127.0.0.1:9"}"#) { try Inventory.load($0) }
        #expect(plain.nodes == ["a": .unix(path: "/tmp/a.sock"), "b": .tcp(host: "127.0.0.1", port: 9)])
        #expect(plain.groups.isEmpty)
        let grouped = try Self.withNodesFile(#"{"a": "unix:/tmp/a.sock", "groups": {"g": ["a"]}}"#) { try Inventory.load($0) }
        #expect(grouped.nodes == ["a": .unix(path: "/tmp/a.sock")])
        #expect(grouped.groups == ["g": ["a"]])
    }

    enum Bad: String, CaseIterable, Sendable {
        case missing, notJSON, nodesNotObject, badAddress, addressNotString, groupNotList, groupUnknownNode, noNodes, emptyNodes
    }

    @Test("a nodes file that cannot be used is refused, naming the file and the fault", arguments: Bad.allCases)
    func refused(_ bad: Bad) throws {
        let (text, fault): (String?, String) = switch bad {
        case .missing: (nil, "cannot read nodes file")
        case .notJSON: ("{\"nodes\": {", "line 1, column 12")
        case .nodesNotObject: (#"{"nodes": ["unix:/a"]}"#, "\"nodes\" must be an object")
        case .badAddress: (#"{"nodes": {"a": "carrier-pigeon"}}"#, "node 'a' has no valid address")
        case .addressNotString: (#"{"nodes": {"a": 7000}}"#, "node 'a' has no valid address")
        case .groupNotList: (#"{"nodes": {"a": "unix:/a"}, "groups": {"g": "a"}}"#, "group 'g' must be a list of node names")
        case .groupUnknownNode: (#"{"nodes": {"a": "unix:/a"}, "groups": {"g": ["a", "b"]}}"#, "group 'g' names unknown node 'b'")
        case .noNodes: (#"{"nodes": {}}"#, "no nodes")
        case .emptyNodes: ("{}", "no nodes")
        }
        try Self.withNodesFile(text) { path in
            let failure = #expect(throws: Inventory.Failure.self) { try Inventory.load(path) }
            switch failure {
            case .unreadable(let named)?: #expect(bad == .missing && named == path)
            case .malformed(let named, _)?: #expect(bad != .missing && named == path)
            case nil: return
            }
            let line = failure?.description ?? ""
            #expect(line.contains(path) && line.contains(fault) && !line.contains("\n"), "\(line)")
        }
    }
}
