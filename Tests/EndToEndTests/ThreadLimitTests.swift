import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Testing

/// A node in a container that allows fewer threads than the node's own
/// process limit: a spawn that finds no thread throws `systemLimit` to the
/// module, and the node lives. The container is a cgroup whose `pids.max`
/// is lowered to what the node runs already.
@Suite("Thread limit", .serialized)
struct ThreadLimitTests {
    /// Where pids cgroups are made: cgroup v1's pids hierarchy, or the v2
    /// root when its children get the pids controller.
    private static let cgroups: String? = {
        if access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0 { return "/sys/fs/cgroup/pids" }
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.subtree_control", encoding: .utf8)) ?? ""
        if controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "pids" }),
            access("/sys/fs/cgroup/cgroup.procs", W_OK) == 0
        {
            return "/sys/fs/cgroup"
        }
        return nil
    }()

    /// Whether this machine lets the test make a pids cgroup (root, and a pids controller to use).
    private static var canLimit: Bool { cgroups != nil }

    private static func write(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test(
        "spawns past the container's thread limit throw systemLimit; the node goes on answering",
        .enabled(if: canLimit, "needs a writable pids cgroup"))
    func spawnPastThreadLimit() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try scratch.startProject()
        let spawner = try ObjectBuilder.versionOne(in: scratch, "spawner", """
            import Hot

            let module = HotModule(exports: [
                .function("park") { () throws -> Int in
                    _ = try Hot.Process.receive()
                    return 0
                },
                .function("fill") { (count: Int) -> [String] in
                    var spawned = 0
                    for _ in 0..<count {
                        do {
                            _ = try Hot.Process.spawn("spawner", "park")
                            spawned += 1
                        } catch {
                            return ["\\(spawned)", "\\(error)"]
                        }
                    }
                    return ["\\(spawned)", ""]
                },
            ])

            """)
        let address = NodeAddress.unix(path: scratch.path("app/.hot/node.sock"))
        let cookie = scratch.path("app/.hot/cookie")
        let client = try NodeClient(address: address, cookieFile: cookie)
        try client.stage(path: spawner.path, fileName: spawner.file)
        _ = try client.request(.load(files: [spawner.file], purge: false, force: false))

        let cgroups = try #require(Self.cgroups)
        let group = cgroups + "/hot-test-\(getpid())-\(node)"
        try FileManager.default.createDirectory(atPath: group, withIntermediateDirectories: false)
        defer {
            // Whatever is in the group (the node, a trial child it started)
            // leaves it for the root one, so the group can go; a child that
            // is ending takes a moment to leave.
            let deadline = ContinuousClock.now + .seconds(5)
            repeat {
                let members = (try? String(contentsOfFile: group + "/cgroup.procs", encoding: .utf8)) ?? ""
                for pid in members.split(separator: "\n") { try? Self.write(cgroups + "/cgroup.procs", String(pid)) }
                if rmdir(group) == 0 || errno == ENOENT { break }
                usleep(50_000)
            } while ContinuousClock.now < deadline
        }
        try Self.write(group + "/cgroup.procs", "\(node)")
        // Every thread it runs now, and not one more; `client`'s connection thread is among them.
        let current = try String(contentsOfFile: group + "/pids.current", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.write(group + "/pids.max", current)

        let answer = try client.request(.call(module: "spawner", function: "fill", args: [.int(50)])).result
        guard case .list(let parts) = answer, parts.count == 2, case .string(let error) = parts[1] else {
            Issue.record("fill answered \(answer)")
            return
        }
        // A thread of the node that was ending when the limit was read (a
        // connection's, a trial's) may leave a place or two for spawns: what
        // matters is that the spawns stop at the limit, with systemLimit.
        guard case .string(let spawnedText) = parts[0], let spawned = Int(spawnedText) else {
            Issue.record("fill answered \(answer)")
            return
        }
        #expect(spawned < 50, "the limit stopped the spawns: \(answer)")
        #expect(error.contains("no thread"), "systemLimit names the cause: \(error)")
        #expect(Scratch.isAlive(node), "the node lives")
        // Still answering on the connection it had.
        _ = try client.request(.status)

        try Self.write(group + "/pids.max", "max")
        let after = try client.request(.call(module: "spawner", function: "fill", args: [.int(2)])).result
        #expect(after == .list([.string("2"), .string("")]), "spawns work again once threads can be had: \(after)")
    }
}
