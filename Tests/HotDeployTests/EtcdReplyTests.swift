#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HotPlatform
import HotWire
import Testing

@testable import HotDeploy

/// The HTTP reply reader the etcd client reads with, fed over a real socket
/// pair: whole, one byte at a time, and silent past its deadline.
@Suite struct EtcdReplyTests {
    /// A connected pair: the reader's end as a `Socket`, and the writer's descriptor.
    private func pair() throws -> (reader: Socket, writer: Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        return (Socket(adopting: fds[0], afterClose: {}), fds[1])
    }

    /// Writes `text` on `fd` from another thread, `step` bytes at a time with a pause between, then closes it.
    private func feed(_ text: String, to fd: Int32, step: Int) -> Thread {
        let bytes = Array(text.utf8)
        let writer = Thread {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + step)
                // MSG_NOSIGNAL: a reader that gave up early closes its end; no SIGPIPE for the test process.
                _ = bytes[offset..<end].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                offset = end
                if step < bytes.count { usleep(500) }
            }
            close(fd)
        }
        writer.start()
        return writer
    }

    private let chunked = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "7\r\n{\"a\":1}\r\n" + "1;ext=1\r\n\n\r\n" + "8\r\n{\"b\":22}\r\n" + "0\r\n\r\n"

    @Test(arguments: [1, 3, 1 << 16])
    func chunkedBodyWhateverTheReadsAre(step: Int) throws {
        let (socket, writer) = try pair()
        defer { socket.close() }
        _ = feed(chunked, to: writer, step: step)
        var reader = ReplyReader(socket: socket, deadline: .now + .seconds(10))
        let head = try reader.head()
        #expect(head.status == 200 && head.chunked && head.contentLength == nil)
        var body: [UInt8] = []
        while let chunk = try reader.chunk() { body += chunk }
        #expect(String(decoding: body, as: UTF8.self) == "{\"a\":1}\n{\"b\":22}")
    }

    @Test(arguments: [1, 1 << 16])
    func lengthBody(step: Int) throws {
        let (socket, writer) = try pair()
        defer { socket.close() }
        _ = feed("HTTP/1.1 404 Not Found\r\ncontent-length: 11\r\n\r\n{\"x\":\"yz\"}\nTRAILING", to: writer, step: step)
        var reader = ReplyReader(socket: socket, deadline: .now + .seconds(10))
        let head = try reader.head()
        #expect(head.status == 404 && head.contentLength == 11 && !head.chunked)
        #expect(String(decoding: try reader.exactly(11), as: UTF8.self) == "{\"x\":\"yz\"}\n")
    }

    @Test func silenceEndsAtTheDeadline() throws {
        let (socket, writer) = try pair()
        defer {
            socket.close()
            close(writer)
        }
        var reader = ReplyReader(socket: socket, deadline: .now + .milliseconds(200))
        let began = ContinuousClock.now
        #expect(throws: SystemError.self) { _ = try reader.head() }
        #expect(ContinuousClock.now - began < .seconds(2))
    }

    @Test func refusedReplies() throws {
        for (text, why) in [
            ("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP reply"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed the connection mid-reply"),
            ("HTTP/1.1 200 OK\r\nContent-Length: \(EtcdHTTP.replyLimit + 1)\r\n\r\n", "longer than"),
        ] {
            let (socket, writer) = try pair()
            defer { socket.close() }
            _ = feed(text, to: writer, step: 1 << 16)
            var reader = ReplyReader(socket: socket, deadline: .now + .seconds(10))
            do {
                let head = try reader.head()
                if head.chunked {
                    while try reader.chunk() != nil {}
                } else {
                    _ = try reader.exactly(head.contentLength ?? 0)
                }
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(why), "\(error)")
            }
        }
    }
}
