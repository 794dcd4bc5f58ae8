import Hot
import HotWire

/// One module's change on one node.
public struct VersionChange: Sendable, Equatable {
    /// The module.
    public let module: String
    /// The version current before, if any.
    public let from: Int?
    /// The version current now.
    public let to: Int
    /// Servers whose `codeChange` failed: they stay on the version and state they had.
    public let codeChangeFailures: [(pid: String, reason: String)]

    public static func == (a: VersionChange, b: VersionChange) -> Bool {
        a.module == b.module && a.from == b.from && a.to == b.to
            && a.codeChangeFailures.map(\.pid) == b.codeChangeFailures.map(\.pid)
    }
}

/// A version to ship: where its object lives and what it is.
public protocol Shippable {
    var module: String { get }
    var version: Int { get }
    var key: String { get }
    var file: String { get }
}

/// Ships versions to one node: stage every one the node does not run, then
/// load them in one request, so the node makes all current or none.
public struct Deployment {
    let client: NodeClient
    let buildDirectory: String

    /// A deployment to the node behind `client` from `buildDirectory`.
    public init(client: NodeClient, buildDirectory: String) {
        self.client = client
        self.buildDirectory = buildDirectory
    }

    /// Stages and loads what the node lacks; returns what changed.
    public func run(_ versions: [some Shippable], purge: Bool, force: Bool) throws(ClientError) -> [VersionChange] {
        let status = try client.request(.status)
        var running: [String: String] = [:]
        for module in status["modules"]?.listValue ?? [] {
            if let name = module["name"]?.stringValue, let key = module["current"]?["key"]?.stringValue {
                running[name] = key
            }
        }
        let needed = versions.filter { running[$0.module] != $0.key }
        guard !needed.isEmpty else { return [] }
        for version in needed {
            try client.stage(path: "\(buildDirectory)/\(version.module)/\(version.file)", fileName: version.file)
        }
        let result = try client.request(.load(files: needed.map(\.file), purge: purge, force: force))
        return (result.listValue ?? []).compactMap { item in
            guard let module = item["module"]?.stringValue, let to = item["to"]?.intValue else { return nil }
            let failures = (item["codeChangeFailures"]?.listValue ?? []).map { f in
                (pid: f["pid"]?.stringValue ?? "?", reason: f["reason"]?.stringValue ?? "?")
            }
            return VersionChange(module: module, from: item["from"]?.intValue, to: to, codeChangeFailures: failures)
        }
    }
}
