import Foundation
import HotDeploy
import Testing

/// A 3-member etcd cluster of the test's own: Debian's `etcd-server`
/// (which `scripts/deps.sh test` installs), each member's data in a
/// temporary folder, on free loopback ports (and each also on the same port
/// of every address in `hosts`, say a veth pair's root side). `stop()` ends
/// every member and removes the folder, whatever the test did;
/// `stop(member:)` and `start(member:)` take one member down and bring it back.
final class EtcdCluster: @unchecked Sendable {
    struct Member {
        let name: String
        let clientPort: UInt16
        let peerPort: UInt16
        var process: Foundation.Process?
    }

    let folder: String
    /// Addresses the members serve clients on besides loopback.
    let hosts: [String]
    private(set) var members: [Member] = []
    private let token: String

    /// The members' client URLs, as `--etcd` takes them.
    var urls: String { urls(on: "127.0.0.1") }
    /// The members' client URLs on one of their addresses.
    func urls(on host: String) -> String { members.map { "http://\(host):\($0.clientPort)" }.joined(separator: ",") }
    var endpoints: [EtcdEndpoint] { members.map { EtcdEndpoint(parsing: "http://127.0.0.1:\($0.clientPort)")! } }

    init(size: Int = 3, hosts: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") else {
            throw Failure("no /usr/bin/etcd: run scripts/deps.sh test (Debian's etcd-server)")
        }
        var template = Array("/tmp/hot-etcd.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        folder = String(cString: made)
        self.hosts = hosts
        token = "hot-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            var used: Set<UInt16> = []
            func port() throws -> UInt16 {
                var candidate = try freeLoopbackPort()
                while used.contains(candidate) { candidate = try freeLoopbackPort() }
                used.insert(candidate)
                return candidate
            }
            for index in 1...size { members.append(Member(name: "m\(index)", clientPort: try port(), peerPort: try port())) }
            for index in members.indices { try start(member: index, new: true) }
            try waitHealthy()
        } catch {
            stop()
            throw error
        }
    }

    /// Starts member `index` (again, after `stop(member:)`).
    func start(member index: Int, new: Bool = false) throws {
        let member = members[index]
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
        process.arguments = [
            "--name", member.name, "--data-dir", "\(folder)/\(member.name)",
            "--listen-client-urls", (["127.0.0.1"] + hosts).map { "http://\($0):\(member.clientPort)" }.joined(separator: ","),
            "--advertise-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", cluster, "--initial-cluster-token", token,
            "--initial-cluster-state", new ? "new" : "existing",
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ]
        let log = "\(folder)/\(member.name).log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        output.seekToEndOfFile()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        members[index].process = process
    }

    /// Ends member `index` (SIGTERM, then SIGKILL), its data kept.
    func stop(member index: Int) {
        guard let process = members[index].process else { return }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        members[index].process = nil
    }

    /// Ends every member and removes the folder.
    func stop() {
        for index in members.indices { stop(member: index) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Waits until a write through every member succeeds (a leader is elected
    /// and each member serves), for up to 20 s.
    func waitHealthy() throws {
        let deadline = ContinuousClock.now + .seconds(20)
        for endpoint in endpoints {
            let client = EtcdClient(endpoints: [endpoint], timeout: .seconds(2))
            while true {
                do {
                    try client.put("/hot-test/health", Array("ok".utf8))
                    break
                } catch {
                    guard ContinuousClock.now < deadline else { throw Failure("etcd cluster not healthy in 20 s: \(error); logs in \(folder)") }
                    // A member gives no event when it has joined: asking is the question.
                    usleep(100_000)
                }
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ text: String) { description = text }
    }
}
