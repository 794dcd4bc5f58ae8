#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Testing

/// A node serving its limit of authenticated connections: the next one gets
/// its welcome, then `reconnect` on its session and the close, never a
/// silent close that would leave its client unsure whether it acted.
extension BadInputTests {
    /// The node's limit of authenticated connections (`ControlServer.maxConnections`, docs/PROTOCOL.md, "Limits").
    private static let connectionLimit = 64

    /// An authenticated connection that the node serves (its ping answered),
    /// tried again until `deadline` while it is told `reconnect`: a
    /// connection of an earlier test may still be ending on the node.
    private static func served(_ address: NodeAddress, _ cookie: [UInt8], until deadline: ContinuousClock.Instant) throws -> Connection {
        while true {
            let connection = try Connection.open(to: address, cookie: cookie)
            let answer = try connection.request(.ping)
            if case .ok = answer { return connection }
            connection.close()
            guard case .error(.reconnect, _) = answer, ContinuousClock.now < deadline else {
                throw WireError.badMessage(reason: "a connection below the limit was answered \(answer)")
            }
            pause(for: .milliseconds(20))
        }
    }

    @Test("the connection past the limit of 64 is answered reconnect after its welcome, and served once one closes")
    func connectionPastTheLimit() throws {
        let node = try sharedNode()
        let address = NodeAddress.unix(path: node.socketPath)
        let deadline = ContinuousClock.now + .seconds(20)
        var open: [Connection] = []
        defer { for connection in open { connection.close() } }
        for _ in 0..<Self.connectionLimit { open.append(try Self.served(address, node.cookie, until: deadline)) }

        // The 65th: welcomed (the handshake succeeds), then told, unasked.
        let extra = try Connection.open(to: address, cookie: node.cookie)
        let answer = try extra.request(.ping)
        guard case .error(let code, let message) = answer else {
            Issue.record("the connection past the limit was answered \(answer)")
            return
        }
        #expect(code == .reconnect, "\(message)")
        #expect(message.contains("\(Self.connectionLimit) connections"), "\(message)")
        #expect(throws: WireError.self, "the node closed it after the answer") { try extra.request(.ping) }
        extra.close()

        // The product's client, told reconnect on every try, gives up saying why.
        let client = try NodeClient(address: address, cookieFile: node.cookiePath)
        do {
            _ = try client.request(.ping)
            Issue.record("a ping past the limit was answered")
        } catch {
            guard case .failed(.reconnect, let message) = error else { throw error }
            #expect(message.contains("limit"), "\(message)")
        }
        _ = consume client

        // One closes: a new connection is served, within the deadline.
        open.removeLast().close()
        open.append(try Self.served(address, node.cookie, until: ContinuousClock.now + .seconds(10)))
        for connection in open { connection.close() }
        open.removeAll()
        try node.expectUnharmed()
    }
}
