import Hot
import HotPlatform
import HotWire

/// One node kept connected across many loads: `hot watch`'s link. The
/// authenticated connection is opened once and reused (no handshake per
/// save). A connection the node has closed (a restart, its idle timeout) is
/// found by a ping before each load or delete, and opened again; only
/// requests that change nothing (ping, status) are repeated after a broken
/// connection, so a load is never sent twice. A node that compacts answers
/// `reconnect` instead, having acted on nothing, and `NodeClient` sends any
/// request again on a new connection by itself.
public final class NodeLink {
    public let target: RolloutTarget
    private var client: NodeClient?
    /// The key each module's current version has in the node, as last seen.
    public private(set) var currentKeys: [String: String] = [:]
    /// Each module's current version in the node, as last seen.
    public private(set) var currentVersions: [String: Int] = [:]
    /// The node's process id and host build as last seen: a restarted node
    /// has another pid, a rebuilt host another build.
    public private(set) var nodeIdentity: String?

    /// A link to `target`; connects on first use.
    public init(target: RolloutTarget) { self.target = target }

    /// Connects now if not connected, and reads what the node runs.
    public func refresh() throws(ClientError) {
        let status = try request(.status)
        nodeIdentity = "pid \(status.pid)" + (status.host.map { ", host build \($0.prefix(12))" } ?? "")
        currentKeys = [:]
        currentVersions = [:]
        for module in status.modules {
            guard let current = module.current else { continue }
            currentKeys[module.name] = current.key
            currentVersions[module.name] = current.version
        }
    }

    /// Loads built versions into the node: each uploaded (verified by
    /// sha256), then all loaded in one request, which trial-loads them
    /// first. Versions the node already runs are left out. Unless
    /// `temporary`, the loaded versions become what the node boots.
    public func load(_ versions: [ShippedVersion], purge: Bool, force: Bool, temporary: Bool) throws(ClientError) -> [VersionChange] {
        let needed = versions.filter { currentKeys[$0.module] != $0.key }
        guard !needed.isEmpty else { return [] }
        let client = try live()
        for version in needed { try once { () throws(ClientError) in try client.stage(path: version.path, fileName: version.fileName) } }
        let reply = try once { () throws(ClientError) in try client.request(.load(files: needed.map(\.fileName), purge: purge, force: force)) }
        let changes = reply.modules.map(VersionChange.init)
        for change in changes {
            currentVersions[change.module] = change.to
            currentKeys[change.module] = needed.first { $0.module == change.module && $0.version == change.to }?.key
        }
        if !temporary {
            _ = try once { () throws(ClientError) in try client.request(.makePermanent(modules: changes.map(\.module))) }
        }
        return changes
    }

    /// Deletes a module from the node: its current version becomes old,
    /// and external calls to it fail (Erlang's `code:delete`).
    /// Unless `temporary`, a restart of the node no longer boots it either.
    public func delete(_ module: String, temporary: Bool) throws(ClientError) -> DeleteReply {
        let client = try live()
        let reply = try once { () throws(ClientError) in try client.request(.delete(module: module)) }
        currentKeys[module] = nil
        currentVersions[module] = nil
        if !temporary { _ = try once { () throws(ClientError) in try client.request(.makePermanent(modules: [module])) } }
        return reply
    }

    /// A request that keeps an idle connection open (the node closes one
    /// idle for `ControlServer.idleTimeout`).
    public func ping() throws(ClientError) {
        _ = try retrying { client throws(ClientError) in try client.request(.ping) }
    }

    /// Reads what the node runs again, and says how the node was before
    /// when it is another process or host build since the last look (a
    /// restart, a rebuilt host): what it runs now is what it booted, not
    /// what was loaded into the one before. Keeps the connection open too.
    public func restartedFrom() throws(ClientError) -> String? {
        let before = nodeIdentity
        try refresh()
        guard let before, before != nodeIdentity else { return nil }
        return before
    }

    /// Closes the connection; the next request opens another.
    public func close() { client = nil }

    /// A request that changes nothing in the node (status, say), repeated
    /// once on a new connection if the open one was broken.
    public func request<Reply>(_ request: TypedRequest<Reply>) throws(ClientError) -> Reply {
        try retrying { client throws(ClientError) in try client.request(request) }
    }

    /// The open connection, checked by a ping (opened again if the node closed it).
    private func live() throws(ClientError) -> NodeClient {
        try ping()
        return try connection()
    }

    /// Runs a request that changes the node, never repeated; a broken
    /// connection is dropped so that the next request opens another.
    private func once<T>(_ body: () throws(ClientError) -> T) throws(ClientError) -> T {
        do {
            return try body()
        } catch {
            if case .protocolError = error { client = nil }
            throw error
        }
    }

    /// Runs `body` on the open connection; on a broken one (not on an error
    /// the node answered), connects again once and runs it again.
    private func retrying<T>(_ body: (NodeClient) throws(ClientError) -> T) throws(ClientError) -> T {
        let reused = client != nil
        let connected = try connection()
        do {
            return try body(connected)
        } catch .protocolError where reused {
            client = nil
            return try body(try connection())
        } catch {
            if case .protocolError = error { client = nil }
            throw error
        }
    }

    private func connection() throws(ClientError) -> NodeClient {
        if let client { return client }
        let opened = try NodeClient(address: target.address, cookieFile: target.cookieFile)
        client = opened
        return opened
    }
}
