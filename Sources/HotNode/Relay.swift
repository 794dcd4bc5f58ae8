#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import HotWire

/// `hotnode --relay SOCKET`: joins standard input and output to a node's
/// Unix socket, byte for byte, so that `hot` can speak the protocol to a
/// node on another machine over an ssh channel. It neither reads nor
/// alters the frames: authentication stays end to end, between `hot` and
/// the node.
public enum Relay {
    /// The flag that selects relay mode.
    public static let flag = RelayFlags.flag

    /// Copies until either side closes; the exit status.
    public static func run(socketPath: String) -> Int32 {
        let socket: Socket
        do {
            socket = try Socket.connect(to: .unix(path: socketPath))
        } catch {
            _ = writeAll(2, Array("hotnode --relay: cannot reach \(socketPath): \(error)\n".utf8))
            return 3
        }
        signal(SIGPIPE, SIG_IGN)
        do {
            try startThread {
                // stdin → node. When the client side ends, tell the node.
                var buffer = [UInt8](repeating: 0, count: 64 << 10)
                while true {
                    let n: Int
                    do { n = try SystemError.retrying("read") { buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) } } } catch { break }
                    if n == 0 { break }
                    do { try socket.write(Array(buffer[0..<n])) } catch { break }
                }
                socket.shutdown()
            }
        } catch {
            _ = writeAll(2, Array("hotnode --relay: \(error)\n".utf8))
            socket.close()
            return 3
        }
        // node → stdout.
        while true {
            let bytes: [UInt8]
            do { bytes = try socket.read(upTo: 64 << 10) } catch { break }
            if bytes.isEmpty || !writeAll(1, bytes) { break }
        }
        return 0
    }
}
