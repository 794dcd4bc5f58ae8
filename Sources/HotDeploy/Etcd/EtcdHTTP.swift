#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import HotWire
import SystemPackage

/// One etcd member's JSON gateway: `http://HOST:PORT`.
public struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    /// Parses `http://HOST:PORT` (or `HOST:PORT`) by hot.json's rule
    /// (`FleetSettings.endpoint`); nil for anything else.
    public init?(parsing text: String) {
        guard let parsed = FleetSettings.endpoint(text) else { return nil }
        host = parsed.host
        port = parsed.port
    }

    public var description: String { "http://\(host):\(port)" }

    /// Parses a comma-separated list of endpoints; the word that is not one, when one is not.
    public static func list(_ text: String) -> Result<[EtcdEndpoint], EtcdError> {
        var endpoints: [EtcdEndpoint] = []
        for word in text.split(separator: ",", omittingEmptySubsequences: true) {
            guard let endpoint = EtcdEndpoint(parsing: String(word)) else {
                return .failure(.badEndpoint(String(word)))
            }
            endpoints.append(endpoint)
        }
        return endpoints.isEmpty ? .failure(.badEndpoint(text)) : .success(endpoints)
    }
}

/// An HTTP/1.1 exchange with one member, over one connection of its own
/// (`Connection: close`): no pooling, so no connection's state outlives its
/// request, and every byte read and every wait is bounded by the request's
/// deadline.
struct EtcdHTTP {
    /// The most of a reply kept; an etcd reply past it is refused (a range
    /// of a fleet's keys stays far below; artifacts come a chunk at a time).
    static let replyLimit = 64 << 20

    /// A connected socket, or why not, by `deadline`.
    static func connect(_ endpoint: EtcdEndpoint, by deadline: ContinuousClock.Instant) throws(SystemError) -> Socket {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &found)
        guard rc == 0, let info = found else {
            throw SystemError("resolve \(endpoint.host): \(String(cString: gai_strerror(rc)))", errno: .noSuchFileOrDirectory)
        }
        defer { freeaddrinfo(info) }
        let fd = try SystemError.retrying("socket") { Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        // Made here rather than by HotWire's `Socket.connect`, whose TCP
        // connect has no deadline; the socket owns the descriptor from now on.
        let socket = Socket(adopting: fd, afterClose: {})
        // A non-blocking connect, so that a member whose machine is gone
        // (no refusal, only silence) costs the deadline, not the kernel's
        // two minutes of SYN retries.
        if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            let failure = SystemError("connect to \(endpoint)")
            guard failure.errno == .nowInProgress || failure.errno == .interrupted else { throw failure }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = try SystemError.retrying("poll") { poll(&entry, 1, milliseconds(deadline.timeLeft)) }
            guard ready == 1 else { throw SystemError("connect to \(endpoint)", errno: .timedOut) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw SystemError("connect to \(endpoint)", errno: Errno(rawValue: error)) }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return socket
    }

    /// Sends `POST path` with a JSON body; returns the status and body.
    static func post(_ endpoint: EtcdEndpoint, _ path: String, body: String, by deadline: ContinuousClock.Instant) throws(SystemError) -> (status: Int, body: [UInt8]) {
        let socket = try connect(endpoint, by: deadline)
        defer { socket.close() }
        try send(socket, endpoint, path, body: body, by: deadline)
        var reader = ReplyReader(socket: socket, deadline: deadline)
        let head = try reader.head()
        var bytes: [UInt8] = []
        if head.chunked {
            while let chunk = try reader.chunk() { bytes += chunk }
        } else if let length = head.contentLength {
            bytes = try reader.exactly(length)
        } else {
            bytes = try reader.toEnd()
        }
        return (head.status, bytes)
    }

    static func send(_ socket: Socket, _ endpoint: EtcdEndpoint, _ path: String, body: String, by deadline: ContinuousClock.Instant) throws(SystemError) {
        let payload = Array(body.utf8)
        let request = "POST \(path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        try socket.setWriteTimeout(max(.milliseconds(1), deadline.timeLeft))
        try socket.write(Array(request.utf8) + payload)
    }
}

/// Reads one HTTP/1.1 reply from a socket, never past its deadline or
/// `EtcdHTTP.replyLimit`.
struct ReplyReader {
    let socket: Socket
    /// When reading gives up; the watch moves it on.
    var deadline: ContinuousClock.Instant
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false

    init(socket: Socket, deadline: ContinuousClock.Instant) {
        self.socket = socket
        self.deadline = deadline
    }

    struct Head {
        var status: Int
        var contentLength: Int?
        var chunked: Bool
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private mutating func fill() throws(SystemError) -> Bool {
        guard !ended else { return false }
        let left = deadline.timeLeft
        guard left > .zero else { throw SystemError("read from etcd", errno: .timedOut) }
        try socket.setReadTimeout(max(.milliseconds(1), left))
        let bytes: [UInt8]
        do { bytes = try socket.read(upTo: 64 << 10) } catch {
            if error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock { throw SystemError("read from etcd", errno: .timedOut) }
            throw error
        }
        if bytes.isEmpty {
            ended = true
            return false
        }
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        guard buffer.count - start + bytes.count <= EtcdHTTP.replyLimit else {
            throw SystemError("etcd reply longer than \(EtcdHTTP.replyLimit) bytes", errno: .messageTooLong)
        }
        buffer += bytes
        return true
    }

    /// One line ending in CRLF, without it.
    private mutating func line() throws(SystemError) -> String {
        while true {
            if let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var text = buffer[start..<end]
                if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
                start = end + 1
                return String(decoding: text, as: UTF8.self)
            }
            guard buffer.count - start < 16 << 10 else { throw SystemError("etcd reply line too long", errno: .messageTooLong) }
            guard try fill() else { throw SystemError("etcd closed the connection mid-reply", errno: .connectionReset) }
        }
    }

    /// The status line and the headers this reader needs.
    mutating func head() throws(SystemError) -> Head {
        let status = try line()
        let words = status.split(separator: " ")
        guard words.count >= 2, words[0].hasPrefix("HTTP/1."), let code = Int(words[1]) else {
            throw SystemError("not an HTTP reply from etcd: \(status.prefix(60))", errno: .protocolError)
        }
        var head = Head(status: code, contentLength: nil, chunked: false)
        while true {
            let header = try line()
            if header.isEmpty { return head }
            guard let colon = header.firstIndex(of: ":") else { continue }
            let name = header[..<colon].lowercased()
            let value = header[header.index(after: colon)...].trimmingSpaces
            if name == "content-length" { head.contentLength = Int(value) }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { head.chunked = true }
        }
    }

    /// `count` bytes of body.
    mutating func exactly(_ count: Int) throws(SystemError) -> [UInt8] {
        guard count <= EtcdHTTP.replyLimit else { throw SystemError("etcd reply longer than \(EtcdHTTP.replyLimit) bytes", errno: .messageTooLong) }
        while buffer.count - start < count {
            guard try fill() else { throw SystemError("etcd closed the connection mid-reply", errno: .connectionReset) }
        }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        return bytes
    }

    /// Everything up to the end of the stream.
    mutating func toEnd() throws(SystemError) -> [UInt8] {
        while try fill() {}
        let bytes = Array(buffer[start...])
        start = buffer.count
        return bytes
    }

    /// The next chunk, waiting for it until `deadline` at most.
    mutating func chunk(until deadline: ContinuousClock.Instant) throws(SystemError) -> [UInt8]? {
        self.deadline = deadline
        return try chunk()
    }

    /// The next chunk of a chunked body; nil after the last.
    mutating func chunk() throws(SystemError) -> [UInt8]? {
        let sizeLine = try line()
        let digits = sizeLine.split(separator: ";").first.map { $0.trimmingSpaces } ?? ""
        guard let size = Int(digits, radix: 16), size >= 0 else {
            throw SystemError("bad chunk size from etcd: \(sizeLine.prefix(20))", errno: .protocolError)
        }
        if size == 0 {
            // Trailers, then the blank line.
            while !(try line()).isEmpty {}
            return nil
        }
        let bytes = try exactly(size)
        _ = try line()
        return bytes
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// Whole milliseconds of a duration, for poll(2); at least 0.
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: max(0, total))
}
