/// Where a node listens: `unix:PATH`, `tcp://HOST:PORT`, or a Unix socket on
/// another machine reached through the system's `ssh`:
/// `ssh://[USER@]HOST[:PORT]/SOCKET-PATH`.
public enum NodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// A Unix domain socket path.
    case unix(path: String)
    /// A TCP host (a numeric IPv4 address or `localhost`) and port.
    case tcp(host: String, port: UInt16)
    /// A node's Unix socket on a host reached by ssh; `hotnode --relay` on the
    /// far side joins the ssh channel to the socket (no daemon, no new port).
    case ssh(user: String?, host: String, port: UInt16?, socket: String)

    /// Parses `unix:PATH` or `tcp://HOST:PORT`; a bare path containing `/` is a Unix socket.
    public init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") {
            let rest = text.dropFirst(6)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
                return nil
            }
            let host = String(rest[..<colon])
            guard !host.isEmpty else { return nil }
            self = .tcp(host: host, port: port)
        } else if text.hasPrefix("ssh://") {
            let rest = text.dropFirst(6)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            var authority = rest[..<slash]
            let socket = String(rest[slash...])
            var user: String?
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at])
                authority = authority[authority.index(after: at)...]
            }
            var port: UInt16?
            if let colon = authority.lastIndex(of: ":") {
                guard let p = UInt16(authority[authority.index(after: colon)...]) else { return nil }
                port = p
                authority = authority[..<colon]
            }
            // Refuse anything ssh could read as an option, and empty parts.
            guard !authority.isEmpty, !authority.hasPrefix("-"), user.map({ !$0.isEmpty && !$0.hasPrefix("-") }) ?? true,
                socket.count > 1
            else { return nil }
            self = .ssh(user: user, host: String(authority), port: port, socket: socket)
        } else if text.contains("/") {
            self = .unix(path: text)
        } else {
            return nil
        }
    }

    /// Whether a listener here is reachable from other machines: a TCP
    /// address outside 127.0.0.0/8. Frames are authenticated, not encrypted,
    /// so such a listener deserves a warning.
    public var isBeyondLoopback: Bool {
        guard case .tcp(let host, _) = self else { return false }
        return host != "localhost" && !host.hasPrefix("127.")
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .ssh(let user, let host, let port, let socket):
            "ssh://\(user.map { $0 + "@" } ?? "")\(host)\(port.map { ":\($0)" } ?? "")\(socket)"
        }
    }
}
