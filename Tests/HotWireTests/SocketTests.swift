import Glibc
import HotPlatform
import Testing

@testable import HotWire

/// Two connected ends (`socketpair(2)`), each owned by a `Socket`.
private func socketPair() throws -> (Socket, Socket) {
    var fds: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
        throw SystemError("socketpair")
    }
    return (Socket(adopting: fds[0], afterClose: {}), Socket(adopting: fds[1], afterClose: {}))
}

@Suite("Socket: no use after close")
struct SocketTests {
    @Test("a closed socket's reads, writes and timeouts throw EBADF, and its shutdown leaves the file that took its number alone")
    func useAfterClose() throws {
        let (old, oldPeer) = try socketPair()
        old.close()
        #expect(throws: SystemError.self) { _ = try old.read(upTo: 1) }
        do {
            try old.write([1])
            Issue.record("a write after close went through")
        } catch {
            #expect(error.errno == .badFileDescriptor)
        }
        #expect(throws: SystemError.self) { try old.setReadTimeout(.seconds(1)) }
        // The kernel hands the lowest free number to the next descriptor: the
        // new pair takes the old socket's, which a late shutdown must not reach.
        let (fresh, freshPeer) = try socketPair()
        old.shutdown()
        old.shutdownReading()
        try freshPeer.write([42])
        try fresh.setReadTimeout(.seconds(5))
        #expect(try fresh.read(upTo: 1) == [42])
        try fresh.write([7])
        try freshPeer.setReadTimeout(.seconds(5))
        #expect(try freshPeer.read(upTo: 1) == [7])
        oldPeer.close()
        fresh.close()
        freshPeer.close()
    }
}
