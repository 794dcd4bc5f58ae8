/// Where a node listens: `unix:PATH` or `tcp://HOST:PORT`.
public enum NodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// A Unix domain socket path.
    case unix(path: String)
    /// A TCP host (a numeric IPv4 address or `localhost`) and port.
    case tcp(host: String, port: UInt16)

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
        } else if text.contains("/") {
            self = .unix(path: text)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}
