#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import HotWire

/// How a client reaches a node on another machine, `ssh://[USER@]HOST[:PORT]/SOCKET`:
/// the system's `ssh` carries the stream, and `hotnode --relay SOCKET` on the
/// far side joins it to the node's socket (no daemon, no new port). Only a
/// client opens one, so it lives here and not in the protocol (`HotWire`).
public enum SSHTunnel {
    /// Runs `ssh` with one end of a socket pair as its stdin and stdout, and
    /// `hotnode --relay SOCKET` as the remote command; the socket returned
    /// ends the child when it closes. Options for ssh come from
    /// HOT_SSH_OPTIONS (split on spaces), the ssh executable from HOT_SSH,
    /// the remote hotnode from HOT_REMOTE_NODE (default `hotnode`, found on
    /// the remote PATH).
    public static func open(user: String?, host: String, port: UInt16?, socket path: String) throws(SystemError) -> Socket {
        guard let ssh = findExecutable(environment("HOT_SSH") ?? "ssh") else {
            throw SystemError("ssh not found on PATH", errno: .noSuchFileOrDirectory)
        }
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SystemError("socketpair")
        }
        let child: Subprocess
        do {
            child = try Subprocess.spawn(ssh, arguments(user: user, host: host, port: port, socket: path), output: .stdio(fds[1]))
        } catch {
            Glibc.close(fds[0])
            Glibc.close(fds[1])
            throw error
        }
        Glibc.close(fds[1])
        // ssh sees its stdin close and would end by itself; it is told to,
        // and reaped, so that no child outlives the connection.
        return Socket(adopting: fds[0]) {
            child.signal(SIGTERM)
            _ = child.wait()
        }
    }

    /// ssh's arguments: batch mode (no prompt a client could not answer),
    /// no terminal, HOT_SSH_OPTIONS, the port, then the host and the remote
    /// command, its socket path quoted for the remote shell.
    static func arguments(user: String?, host: String, port: UInt16?, socket path: String) -> [String] {
        let extra = environment("HOT_SSH_OPTIONS").map { $0.split(separator: " ").map(String.init) } ?? []
        let remote = environment("HOT_REMOTE_NODE") ?? "hotnode"
        var arguments = ["-o", "BatchMode=yes", "-T"] + extra
        if let port { arguments += ["-p", "\(port)"] }
        return arguments + ["--", (user.map { $0 + "@" } ?? "") + host, remote] + RelayFlags.arguments(socket: shellQuoted(path))
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// `word` as one word for a POSIX shell, whatever it holds.
    private static func shellQuoted(_ word: String) -> String {
        "'" + word.replacing("'", with: "'\\''") + "'"
    }
}

extension Connection {
    /// Connects to a node wherever its address says, through an
    /// `SSHTunnel` for an ssh address, and runs the client's handshake.
    static func open(reaching address: NodeAddress, cookie: [UInt8]) throws(WireError) -> Connection {
        guard case .ssh(let user, let host, let port, let path) = address else { return try open(to: address, cookie: cookie) }
        let socket: Socket
        do { socket = try SSHTunnel.open(user: user, host: host, port: port, socket: path) } catch { throw .system(error) }
        return try open(over: socket, cookie: cookie)
    }
}
