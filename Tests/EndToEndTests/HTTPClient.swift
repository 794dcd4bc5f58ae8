import Foundation
import Synchronization

/// A minimal HTTP/1.1 client over one keep-alive TCP connection to loopback:
/// the test's own, so that it sees every response and whether the connection
/// was ever closed, which a URL session hides. One thread uses a connection
/// at a time (a client thread owns its own).
final class KeepAliveConnection: @unchecked Sendable {
    struct Response {
        let status: Int
        /// Header fields by lowercased name.
        let headers: [String: String]
        let body: String
    }

    enum Failure: Error, CustomStringConvertible {
        case connect(Int32)
        case closed
        case malformed(String)
        case timeout

        var description: String {
            switch self {
            case .connect(let errno): "connect failed: errno \(errno)"
            case .closed: "the server closed the connection"
            case .malformed(let text): "malformed response: \(text)"
            case .timeout: "no response within the deadline"
            }
        }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; reads wait at most `timeout` seconds.
    init(port: Int, timeout: Int = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw Failure.connect(error)
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `GET path` and reads the whole response, keeping the connection open.
    func get(_ path: String) throws -> Response { try exchange("GET", path) }

    /// Sends `POST path` with an empty body, and reads the whole response.
    func post(_ path: String) throws -> Response { try exchange("POST", path, headers: "Content-Length: 0\r\n") }

    /// Sends `POST path` with a JSON body, and reads the whole response.
    func post(_ path: String, json: String) throws -> Response {
        try exchange("POST", path, headers: "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n", body: json)
    }

    private func exchange(_ method: String, _ path: String, headers: String = "", body: String = "") throws -> Response {
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\(headers)\r\n\(body)".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.closed }
            sent += n
        }
        let head = try readHead()
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw Failure.malformed(String(head.prefix(200))) }
        var length = 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
            if parts.count == 2, parts[0].lowercased() == "transfer-encoding" {
                throw Failure.malformed("chunked responses are not expected here")
            }
        }
        let body = try readBytes(length)
        return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    private func readHead() throws -> String {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = buffer.firstRange(of: end) {
                let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<range.upperBound)
                return head
            }
            try fill()
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { throw Failure.closed }
        if n < 0 { throw errno == EAGAIN || errno == EWOULDBLOCK ? Failure.timeout : Failure.closed }
        buffer += chunk[..<n]
    }
}

/// Clients that send requests without pause, each on a keep-alive
/// connection and a thread of its own, until `stop()`. A client's `step`
/// sends its `n`th request (1-based) and names what was wrong with the
/// answer, or nil; a thrown error means the connection is gone, which is a
/// failure too, and ends that client.
final class KeepAliveLoad: Sendable {
    private let failures = Mutex<[String]>([])
    private let done = Atomic<Bool>(false)
    private let group = DispatchGroup()

    init(port: Int, clients: Int, step: @escaping @Sendable (_ connection: KeepAliveConnection, _ client: Int, _ n: Int) throws -> String?) throws {
        for client in 0..<clients {
            let connection = try KeepAliveConnection(port: port)
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                var n = 0
                while !done.load(ordering: .acquiring) {
                    n += 1
                    do {
                        if let failure = try step(connection, client, n) { failures.withLock { $0.append(failure) } }
                    } catch {
                        failures.withLock { $0.append("client \(client), request \(n): \(error)") }
                        return
                    }
                }
            }
        }
    }

    /// Stops every client after its request in flight, and gives what failed.
    func stop() -> [String] {
        done.store(true, ordering: .releasing)
        group.wait()
        return failures.withLock { $0 }
    }
}
