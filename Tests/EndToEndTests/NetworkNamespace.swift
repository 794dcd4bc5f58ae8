import Foundation
import Testing

/// A network namespace of the test's own, joined to the root namespace by a
/// veth pair on a /30 subnet of its own: `hostAddress` on the root side,
/// `innerAddress` inside. A process started with `command(_:_:)` runs in it
/// and reaches the root namespace only through the pair (a Unix socket, a
/// path in the file system, still joins both sides). `cut()` takes the root
/// side's link down, so that what runs inside hears silence, not a refusal,
/// as when a cable is pulled; `mend()` brings it back. `close()` deletes the
/// pair and the namespace (processes still inside keep it alive, unnamed,
/// until they end).
final class NetworkNamespace {
    let name: String
    let hostAddress: String
    let innerAddress: String
    /// The pair's root side, the end `cut()` takes down.
    let hostLink: String
    /// The `ip` command (iproute2).
    private let tool: String

    /// Why this machine makes no namespace for the test.
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// A new namespace; `Refused` where making one is not permitted (not
    /// root, or the kernel refuses `ip netns add`). Any other failure throws
    /// a `Failure` and leaves nothing behind: it is a fault, not a machine
    /// without namespaces.
    init() throws {
        guard geteuid() == 0 else { throw Refused(description: "not root (ip netns add needs CAP_SYS_ADMIN)") }
        guard let tool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw EtcdCluster.Failure("no ip command: run scripts/deps.sh test (Debian's iproute2)")
        }
        self.tool = tool
        let pid = Int(getpid())
        name = "hot-test-\(pid)"
        hostLink = "hotv\(pid)h"
        // 10.231.0.0/16 cut into /30s by the pid: two test processes at once
        // pick two subnets (unless their pids are 16384 apart), and the range
        // is far from the usual 10.0/16, 10.1/16.
        let subnet = (pid % 16_384) * 4
        hostAddress = "10.231.\(subnet / 256).\(subnet % 256 + 1)"
        innerAddress = "10.231.\(subnet / 256).\(subnet % 256 + 2)"
        let added = try runCommand(tool, ["netns", "add", name], in: "/")
        guard added.status == 0 else {
            let why = added.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            // A refusal may come after the name's mount point was made.
            _ = try? runCommand(tool, ["netns", "del", name], in: "/")
            if why.contains("Operation not permitted") || why.contains("Permission denied") { throw Refused(description: "ip netns add: \(why)") }
            throw EtcdCluster.Failure("ip netns add \(name): \(added)")
        }
        let innerLink = "hotv\(pid)n"
        do {
            try ip(["link", "add", hostLink, "type", "veth", "peer", "name", innerLink, "netns", name])
            try ip(["addr", "add", "\(hostAddress)/30", "dev", hostLink])
            try ip(["link", "set", hostLink, "up"])
            try ip(["-n", name, "addr", "add", "\(innerAddress)/30", "dev", innerLink])
            try ip(["-n", name, "link", "set", innerLink, "up"])
            try ip(["-n", name, "link", "set", "lo", "up"])
        } catch {
            close()
            throw error
        }
    }

    /// `executable` with `arguments`, to run inside the namespace.
    func command(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        (tool, ["netns", "exec", name, executable] + arguments)
    }

    /// Takes the root side of the pair down: the inside hears nothing from the root namespace.
    func cut() throws { try ip(["link", "set", hostLink, "down"]) }

    /// Brings the root side of the pair up again.
    func mend() throws { try ip(["link", "set", hostLink, "up"]) }

    /// Deletes the pair (both ends go with one) and the namespace; what is already gone is no error.
    func close() {
        _ = try? runCommand(tool, ["link", "del", hostLink], in: "/")
        _ = try? runCommand(tool, ["netns", "del", name], in: "/")
    }

    private func ip(_ arguments: [String]) throws {
        let outcome = try runCommand(tool, arguments, in: "/")
        guard outcome.status == 0 else { throw EtcdCluster.Failure("ip \(arguments.joined(separator: " ")): \(outcome)") }
    }
}
