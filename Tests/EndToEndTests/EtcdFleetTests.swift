import Foundation
import HotDeploy
import HotWire
import Testing

/// Fleets coordinated through etcd: a real 3-member cluster on loopback,
/// one project, nodes started by `hot start --etcd ... --fleet web` (each
/// with its follower process), real swiftc, `hot deploy --etcd` as the
/// coordinator.
@Suite("Fleets through etcd", .serialized)
struct EtcdFleetTests {
    @Test("a deploy through etcd reaches every node with one etcd member down; a node that joins later runs the committed release")
    func deployAndJoin() throws {
        let fleet = try EtcdFleet(nodes: 3)
        defer { fleet.close() }
        for name in fleet.names { #expect(try fleet.edition(on: name) == 1, "\(name)") }
        fleet.cluster.stop(member: 0)

        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web", "--strategy", "rolling", "--batch", "2"])
        #expect(deployed.status == 0, "\(deployed)")
        #expect(deployed.stdout.contains("committed release"), "\(deployed)")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 2, "\(name): \(deployed.stdout)") }
        let status = try fleet.status()
        let committed = try #require(status["committed"] as? String, "\(status)")
        let nodes = try #require(status["nodes"] as? [[String: Any]], "\(status)")
        #expect(Set(nodes.compactMap { $0["node"] as? String }) == Set(fleet.names.map(fleet.id)))
        for node in nodes { #expect(node["release"] as? String == committed, "\(node)") }
        // Committed fleet-wide, the release becomes what each node boots.
        for name in fleet.names {
            try fleet.waitUntil("\(name) makes v2 permanent") { try fleet.permanentVersion(on: name) == 2 }
        }

        // A later build exists on the machine, but the fleet committed edition 2: the new node runs 2.
        try fleet.writeEdition(3)
        let built = try fleet.hot(["build"])
        try #require(built.status == 0, "\(built)")
        // hot start returns once the node runs the committed release.
        let joined = try fleet.start("n4")
        #expect(joined.contains("running release \(committed)"), "\(joined)")
        #expect(try fleet.edition(on: "n4") == 2)
        // Edition 3 was never committed: the new node never ran it, not even before its follower's first step.
        let joinLog = try fleet.scratch.read("app/.hot/nodes/n4/node.log")
        #expect(!joinLog.contains("hello v3"), "a version the fleet did not commit was loaded: \(joinLog)")
        let reported = try fleet.status()["nodes"] as? [[String: Any]] ?? []
        #expect(reported.contains { $0["node"] as? String == fleet.id("n4") && $0["release"] as? String == committed }, "\(reported)")
        let human = try fleet.hot(["fleet", "status", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(human.status == 0 && human.stdout.contains("committed \(committed)"), "\(human)")

        // A node stopped leaves the fleet at once: its follower ends with its supervisor and gives its lease back.
        let follower = try fleet.followerPid("n4")
        let stopped = try fleet.hot(["stop", "--node", "n4"])
        #expect(stopped.status == 0, "\(stopped)")
        let stopTime = ContinuousClock.now
        try fleet.waitUntil("n4's follower ends", timeout: .seconds(10)) { !Scratch.isRunning(follower) }
        let listed = try fleet.status()["nodes"] as? [[String: Any]] ?? []
        #expect(!listed.contains { $0["node"] as? String == fleet.id("n4") }, "\(listed)")
        #expect(ContinuousClock.now - stopTime < .seconds(8), "before its lease would have ended by itself")

        // Bad input is refused in one line before anything starts.
        let badURL = try fleet.hot(["start", "--node", "n9", "--etcd", "nonsense", "--fleet", "web"])
        #expect(badURL.status == 2 && badURL.stderr.contains("invalid value 'nonsense' for --etcd"), "\(badURL)")
        #expect(!FileManager.default.fileExists(atPath: fleet.scratch.path("app/.hot/nodes/n9/node.pid")), "no node started")
        let badFleet = try fleet.hot(["fleet", "status", "--etcd", fleet.cluster.urls, "--fleet", "a/b"])
        #expect(badFleet.status == 2 && badFleet.stderr.contains("'a/b'"), "\(badFleet)")
        let pushOnly = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web", "--temporary"])
        #expect(pushOnly.status == 2 && pushOnly.stderr.contains("--temporary"), "\(pushOnly)")

        // etcd gone altogether: a deploy is refused in one line, and every node serves on.
        for member in 1..<3 { fleet.cluster.stop(member: member) }
        let refused = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(refused.status == 3, "\(refused)")
        #expect(refused.stderr.contains("etcd unreachable at \(fleet.cluster.urls): "), "\(refused)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused)")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 2, "\(name) serves on without etcd") }
        let blind = try fleet.hot(["fleet", "status", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(blind.status == 3 && blind.stderr.contains("etcd unreachable at \(fleet.cluster.urls): "), "\(blind)")
    }

    @Test("a release whose artifact was altered in etcd, or signed with another cookie, is refused by every node: nothing is committed")
    func tamperedReleaseRefused() throws {
        let fleet = try EtcdFleet(nodes: 2)
        defer { fleet.close() }
        try fleet.writeEdition(2)
        let built = try fleet.hot(["build"])
        try #require(built.status == 0, "\(built)")
        let versions = try fleet.builtVersions()
        let etcd = EtcdClient(endpoints: fleet.cluster.endpoints)
        let cookie = try Cookie.read(path: fleet.scratch.path("app/.hot/cookie"))

        // Signed by a stranger: the nodes cannot verify it.
        let stranger = FleetCoordinator(store: FleetStore(etcd: etcd, fleet: "web", cookie: Array("not the fleet's".utf8)), stepTimeout: .seconds(30))
        let forged = try stranger.publish(versions)
        #expect(throws: FleetFailure.self) { _ = try stranger.rollOut(forged) { _ in } }
        let refusedForged = try fleet.reasons()
        for name in fleet.names {
            #expect(refusedForged[fleet.id(name)]?.contains("not signed with this fleet's cookie") == true, "\(refusedForged)")
        }

        // Signed right, but one artifact's bytes altered after publishing.
        let store = FleetStore(etcd: etcd, fleet: "web", cookie: cookie)
        let coordinator = FleetCoordinator(store: store, stepTimeout: .seconds(30))
        let committedBefore = try store.control().committed
        let release = try coordinator.publish(versions)
        let artifact = try #require(release.artifacts.first)
        var bytes = try #require(try etcd.get(store.keys.chunk(artifact.sha256, 0)).value?.value)
        bytes[bytes.count / 2] ^= 0xff
        try etcd.put(store.keys.chunk(artifact.sha256, 0), bytes)
        do {
            _ = try coordinator.rollOut(release) { _ in }
            Issue.record("a tampered release was committed")
        } catch {
            #expect(error.description.hasPrefix("staging failed, nothing was committed"), "\(error)")
            #expect(error.description.contains("sha256"), "\(error)")
        }
        #expect(try store.control().committed == committedBefore, "the fleet's first release stays committed")
        #expect(try store.control().rollout == nil, "the failed rollout ended")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 1, "\(name) must still run edition 1") }
    }

    @Test("a coordinator killed after its canary leaves a rollout a new deploy refuses and --resume finishes")
    func resumeAfterCoordinatorDies() throws {
        let fleet = try EtcdFleet(nodes: 3)
        defer { fleet.close() }
        try fleet.writeEdition(2)
        let coordinator = try fleet.spawnHot([
            "deploy", "--etcd", fleet.cluster.urls, "--fleet", "web", "--strategy", "canary", "--canary", "1", "--canary-wait", "120",
        ])
        defer { if coordinator.isRunning { kill(coordinator.processIdentifier, SIGKILL); coordinator.waitUntilExit() } }
        let etcd = EtcdClient(endpoints: fleet.cluster.endpoints)
        let store = FleetStore(etcd: etcd, fleet: "web", cookie: [1])
        try fleet.waitUntil("the canary runs the release", timeout: .seconds(120)) {
            guard let rollout = try store.control().rollout, rollout.committed.count == 1 else { return false }
            return try store.nodes()[rollout.committed[0]]?.release == rollout.release
        }
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        let rollout = try #require(try store.control().rollout)
        #expect(try fleet.edition(on: "n1") == 2, "the canary")
        #expect(try fleet.edition(on: "n2") == 1 && fleet.edition(on: "n3") == 1, "not yet committed there")

        let second = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(second.status == 1, "\(second)")
        #expect(second.stderr.contains("under way") && second.stderr.contains("--resume"), "\(second)")
        #expect(second.stderr.split(separator: "\n").count == 1, "one line: \(second)")

        let resumed = try fleet.hot([
            "deploy", "--etcd", fleet.cluster.urls, "--fleet", "web", "--resume", "--strategy", "canary", "--canary", "1", "--canary-wait", "0", "--json",
        ])
        #expect(resumed.status == 0, "\(resumed)")
        let report = try parseJSON(resumed.stdout) as? [String: Any]
        #expect(report?["outcome"] as? String == "committed" && report?["release"] as? String == rollout.release, "\(resumed)")
        #expect(try store.control().committed == rollout.release)
        for name in fleet.names { #expect(try fleet.edition(on: name) == 2, "\(name): \(resumed.stdout)") }
    }

    /// The partition is real where the machine allows it: n3 and its
    /// follower run in a network namespace whose only way to etcd is a veth
    /// pair, and the pair's link goes down (root can, on Linux). Elsewhere
    /// (not root, or the kernel refuses `ip netns add`) n3's follower is
    /// stopped instead; the test says which in its output. Only a refusal
    /// of `ip netns add` falls back: any other fault making the namespace
    /// fails the test.
    @Test("a node cut off from etcd (its network namespace's link down, else its follower stopped) drops out when its lease ends, is left out of the deploy, and catches up when it returns")
    func cutOffNodeCatchesUp() throws {
        let fleet = try EtcdFleet(nodes: 3, isolating: "n3")
        defer { fleet.close() }
        let store = FleetStore(etcd: EtcdClient(endpoints: fleet.cluster.endpoints), fleet: "web", cookie: [1])
        try fleet.waitUntil("every node registered") { try store.nodes().count == 3 }
        let follower = try fleet.followerPid("n3")
        // n3 staged the fleet's first release with the others; what it stages from here is counted.
        let stagedBefore = try fleet.scratch.read("app/.hot/nodes/n3/follower.log").components(separatedBy: ": staged ").count
        print("partition: \(try fleet.cutOff())")
        let cut = ContinuousClock.now
        try fleet.waitUntil("n3's lease ends", timeout: .seconds(30)) { try store.nodes()[fleet.id("n3")] == nil }
        #expect(ContinuousClock.now - cut > .seconds(5), "the lease outlives a cut shorter than its TTL")
        // Cut off, not stopped: the follower runs on, finds etcd silent, and says so in its log as it happens.
        let unreachable = { () throws -> Int in
            try fleet.scratch.read("app/.hot/nodes/n3/follower.log").split(separator: "\n").filter { $0.contains("etcd unreachable at") }.count
        }
        if fleet.namespace != nil {
            #expect(Scratch.isRunning(follower))
            try fleet.waitUntil("n3's follower says etcd is unreachable", timeout: .seconds(20)) { try unreachable() > 0 }
        }
        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(deployed.status == 0, "\(deployed)")
        #expect(deployed.stdout.contains("to 2 nodes"), "\(deployed)")
        #expect(try fleet.edition(on: "n1") == 2 && fleet.edition(on: "n2") == 2)
        // Its control socket is a path in the project: reachable across the cut, and the node serves on.
        #expect(try fleet.edition(on: "n3") == 1, "cut off: untouched")
        let committed = try #require(try store.control().committed)
        if fleet.namespace != nil {
            // Tried again each second, said once: one fault, whatever each member's socket answered.
            let log = try fleet.scratch.read("app/.hot/nodes/n3/follower.log")
            #expect(try unreachable() == 1, "\(log)")
        }

        try fleet.reconnect()
        try fleet.waitUntil("n3 runs the committed release again", timeout: .seconds(30)) { try fleet.edition(on: "n3") == 2 }
        try fleet.waitUntil("n3 reports it under a new lease", timeout: .seconds(30)) { try store.nodes()[fleet.id("n3")]?.release == committed }
        // It never staged: the release reached it committed, from the fleet's committed key.
        let log = try fleet.scratch.read("app/.hot/nodes/n3/follower.log")
        #expect(log.components(separatedBy: ": staged ").count == stagedBefore, "\(log)")
        #expect(try fleet.followerPid("n3") == follower, "the same follower caught up")
    }

    @Test("with etcd down the nodes serve on and a deploy is refused; once it is back they follow again")
    func etcdDownAndBack() throws {
        let fleet = try EtcdFleet(nodes: 2)
        defer { fleet.close() }
        let store = FleetStore(etcd: EtcdClient(endpoints: fleet.cluster.endpoints), fleet: "web", cookie: [1])
        try fleet.waitUntil("both nodes registered") { try store.nodes().count == 2 }
        for member in 0..<3 { fleet.cluster.stop(member: member) }
        try fleet.writeEdition(2)
        let refused = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(refused.status == 3 && refused.stderr.contains("etcd unreachable at"), "\(refused)")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 1, "\(name) serves on") }

        for member in 0..<3 { try fleet.cluster.start(member: member) }
        try fleet.cluster.waitHealthy()
        try fleet.waitUntil("both nodes are live again", timeout: .seconds(30)) { try store.nodes().count == 2 }
        let deployed = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(deployed.status == 0, "\(deployed)")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 2, "\(name)") }
    }

    @Test("a deploy of one module through etcd keeps the fleet's other modules as committed")
    func partialDeployKeepsTheRest() throws {
        let fleet = try EtcdFleet(nodes: 2)
        defer { fleet.close() }
        try FileManager.default.createDirectory(atPath: fleet.scratch.path("app/modules/world"), withIntermediateDirectories: true)
        try fleet.scratch.write("app/modules/world/world.swift", "import Hot\n\nlet module = HotModule(exports: [.function(\"edition\", { () -> Int in 1 })])\n")
        try fleet.writeEdition(2)
        let full = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(full.status == 0, "\(full)")
        try fleet.scratch.write("app/modules/world/world.swift", "import Hot\n\nlet module = HotModule(exports: [.function(\"edition\", { () -> Int in 2 })])\n")
        try fleet.writeEdition(3)
        let one = try fleet.hot(["deploy", "world", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(one.status == 0, "\(one)")
        #expect(one.stdout.contains("hello v2") && one.stdout.contains("world v2"), "the release names both: \(one)")
        for name in fleet.names {
            #expect(try fleet.edition(on: name) == 2, "\(name): hello stays as committed, not the edition 3 left unshipped")
            let world = try fleet.hot(["call", "world:edition", "--node", "unix:" + fleet.scratch.path("app/.hot/nodes/\(name)/node.sock")])
            #expect(world.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(name): \(world)")
        }

        // A module deleted from the project leaves the fleet: deleted on every node, not sent back to an older version.
        try FileManager.default.removeItem(atPath: fleet.scratch.path("app/modules/world"))
        let without = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(without.status == 0 && !without.stdout.contains("world v"), "\(without)")
        for name in fleet.names {
            let world = try fleet.hot(["call", "world:edition", "--node", "unix:" + fleet.scratch.path("app/.hot/nodes/\(name)/node.sock")])
            #expect(world.status != 0, "\(name): world must be gone: \(world)")
            #expect(try fleet.edition(on: name) == 3, "\(name): hello goes on with the full deploy")
        }
        // Gone from what each node boots too: its permanent set no longer names world.
        for name in fleet.names {
            try fleet.waitUntil("\(name) makes the release permanent") { try fleet.permanentVersion(on: name) == 3 }
            #expect(try fleet.permanentVersion(on: name, module: "world") == nil, "\(name) would boot world again")
        }
    }

    @Test("a node failing its health check stops a rolling deploy through etcd and the committed nodes go back")
    func healthFailureRollsBack() throws {
        let fleet = try EtcdFleet(nodes: 3, unhealthy: ["n2"])
        defer { fleet.close() }
        let first = try #require(try fleet.status()["committed"] as? String, "the fleet's first release")
        try fleet.writeEdition(2, withHealth: true)
        let deployed = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web", "--strategy", "rolling", "--batch", "1"])
        #expect(deployed.status == 1, "\(deployed)")
        #expect(deployed.stderr.contains("deploy failed and was rolled back") && deployed.stderr.contains("unhealthy"), "\(deployed)")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 1, "\(name): \(deployed.stdout)") }
        let store = FleetStore(etcd: EtcdClient(endpoints: fleet.cluster.endpoints), fleet: "web", cookie: [1])
        #expect(try store.control().committed == first && store.control().rollout == nil)

        // With a release committed before, the committed nodes go back to it (their old version).
        try fleet.writeEdition(3)
        let healthy = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(healthy.status == 0, "\(healthy)")
        let previous = try #require(try store.control().committed)
        try fleet.writeEdition(4, withHealth: true)
        let failing = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web", "--strategy", "rolling", "--batch", "1"])
        #expect(failing.status == 1 && failing.stderr.contains("rolled back"), "\(failing)")
        for name in fleet.names { #expect(try fleet.edition(on: name) == 3, "\(name): \(failing.stdout)") }
        #expect(try store.control().committed == previous)
        let reports = try store.nodes()
        for name in fleet.names { #expect(reports[fleet.id(name)]?.release == previous, "\(name): \(reports)") }
    }

    @Test("a server that embeds a node follows hot.json's fleet: a deploy through etcd reaches it, fleet status lists it, and its stop takes it out at once")
    func embeddedHostFollows() throws {
        let fleet = try EtcdFleet(nodes: 1)
        defer { fleet.close() }
        let app = fleet.scratch.path("app")
        let plain = try fleet.scratch.read("app/hot.json")
        let members = fleet.cluster.urls.split(separator: ",").map { "\"\($0)\"" }.joined(separator: ", ")
        func following(_ settings: String) -> String { "{\"fleet\": \(settings)," + plain.drop { $0 != "{" }.dropFirst() }

        // A fleet setting hot.json does not take stops the host before its node serves, in one line naming it.
        try fleet.scratch.write("app/hot.json", following(#"{"etcd": [\#(members)], "name": "web", "id": "edge-1"}"#))
        let refused = try fleet.scratch.run(Binaries.directory + "/EmbeddedHostFixture", ["--project", app], in: fleet.scratch.root)
        #expect(refused.status == 1 && refused.stderr.contains(#""fleet" takes "etcd", "name" and "node", not "id""#), "\(refused)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused)")

        try fleet.scratch.write("app/hot.json", following(#"{"etcd": [\#(members)], "name": "web", "node": "edge-1"}"#))
        let host = try EmbeddedHost.start(project: app, in: fleet.scratch.root)
        defer { host.end() }
        func edition() throws -> Int? {
            let call = try fleet.hot(["call", "hello:edition", "--node", "unix:" + app + "/.hot/node.sock"])
            return Int(call.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // Nothing of its own build: the fleet's committed release, which its follower loads.
        try fleet.waitUntil("the host runs the fleet's committed release", timeout: .seconds(15)) { try edition() == 1 }
        func listed() throws -> [[String: Any]] { try fleet.status()["nodes"] as? [[String: Any]] ?? [] }
        try fleet.waitUntil("the host's node joins the fleet", timeout: .seconds(15)) { try listed().contains { $0["node"] as? String == "edge-1" } }

        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(deployed.status == 0, "\(deployed)")
        #expect(try edition() == 2, "the host runs the committed release: \(deployed)")
        #expect(try fleet.edition(on: "n1") == 2)
        let committed = try #require(try fleet.status()["committed"] as? String)
        let report = try #require(try listed().first { $0["node"] as? String == "edge-1" }, "hot fleet status lists the host's node")
        #expect(report["release"] as? String == committed, "\(report)")
        #expect((report["versions"] as? [String: Any])?["hello"] as? Int == 2, "\(report)")
        let human = try fleet.hot(["fleet", "status", "--etcd", fleet.cluster.urls, "--fleet", "web"])
        #expect(human.stdout.contains("edge-1"), "\(human)")
        #expect(host.output.contains("edge-1 follows fleet web"), "the host's log says it follows: \(host.output)")

        // Its stop gives the lease back before the node reports it stopped, long before the lease would end.
        let stopTime = ContinuousClock.now
        host.send("stop")
        try #require(host.waitFor("node stopped", seconds: 15), "\(host.output)")
        #expect(try !listed().contains { $0["node"] as? String == "edge-1" }, "a stopped node left in the fleet")
        #expect(ContinuousClock.now - stopTime < .seconds(2), "its watch interrupted, not waited out (a third of the lease)")
        #expect(host.output.contains("edge-1 left fleet web"), "\(host.output)")
        #expect(try fleet.edition(on: "n1") == 2, "the other node serves on")
        #expect(host.finish() == 0, "\(host.output)")
    }
}

// MARK: - The fleet

/// One project (module `hello`, edition 1 built as v1), an etcd cluster,
/// and nodes n1...nN started by `hot start --node nK --etcd ... --fleet web`.
/// The node named `isolating`, if any, can be cut off from etcd: see `Partition`.
private final class EtcdFleet {
    let scratch: Scratch
    let cluster: EtcdCluster
    let names: [String]
    private let unhealthy: [String]
    /// The node `cutOff()` cuts off.
    let isolated: String?
    /// How it is cut off; nil without one.
    let partition: Partition?

    /// How a node is cut off from etcd.
    enum Partition {
        /// The node and its follower run in a network namespace of their
        /// own; cut off, its link to the root namespace is down: the
        /// follower runs on and hears nothing from etcd, as across a network
        /// that fails.
        case namespace(NetworkNamespace)
        /// This machine makes no namespace for the test (why): the follower
        /// is stopped instead (SIGSTOP), so it renews nothing.
        case stoppedFollower(because: String)
    }

    init(nodes count: Int, unhealthy: [String] = [], isolating isolated: String? = nil) throws {
        scratch = try Scratch()
        names = (1...count).map { "n\($0)" }
        self.unhealthy = unhealthy
        self.isolated = isolated
        // The namespace first: the etcd members also listen on its root
        // side's address, which must exist before they bind it.
        var namespace: NetworkNamespace?
        var partition: Partition?
        do {
            if isolated != nil {
                let made = try NetworkNamespace()
                namespace = made
                partition = .namespace(made)
            }
        } catch let refused as NetworkNamespace.Refused {
            partition = .stoppedFollower(because: refused.description)
        } catch {
            scratch.close()
            throw error
        }
        self.partition = partition
        do { cluster = try EtcdCluster(hosts: namespace.map { [$0.hostAddress] } ?? []) } catch {
            namespace?.close()
            scratch.close()
            throw error
        }
        do {
            let initialized = try scratch.hot(["init", "app"], in: "")
            try #require(initialized.status == 0, "\(initialized)")
            try writeEdition(1)
            for name in names { try start(name) }
            // A new fleet's nodes run nothing until its first release is
            // committed: no local build is loaded on a fleet's node.
            let first = try hot(["deploy", "--etcd", cluster.urls, "--fleet", "web"])
            try #require(first.status == 0, "the first release: \(first)")
        } catch {
            close()
            throw error
        }
    }

    /// The node's name in the fleet.
    func id(_ name: String) -> String { "\(name)@\(hostName)" }

    private var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, 255)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func hot(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        try scratch.hot(arguments, in: "app", environment: environment)
    }

    /// The network namespace the isolated node runs in, if it runs in one.
    var namespace: NetworkNamespace? {
        if case .namespace(let namespace) = partition { return namespace }
        return nil
    }

    /// `hot` with `arguments`, left running.
    func spawnHot(_ arguments: [String]) throws -> Foundation.Process {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: Binaries.hot)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path("app"))
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts a node that follows the fleet; what `hot start` said.
    @discardableResult
    func start(_ name: String) throws -> String {
        let environment = unhealthy.contains(name) ? ["HELLO_UNHEALTHY": "1"] : [:]
        let started: Outcome
        if name == isolated, let namespace {
            // Inside, etcd is only at the root side's address, through the pair.
            let arguments = ["start", "--node", name, "--etcd", cluster.urls(on: namespace.hostAddress), "--fleet", "web"]
            let inside = namespace.command(Binaries.hot, arguments)
            started = try scratch.run(inside.executable, inside.arguments, in: scratch.path("app"), environment: environment)
        } else {
            started = try hot(["start", "--node", name, "--etcd", cluster.urls, "--fleet", "web"], environment: environment)
        }
        try #require(started.status == 0 && started.stdout.contains("following fleet web"), "\(name): \(started)")
        return started.stdout
    }

    /// Rewrites `hello` as edition `edition`; `withHealth` exports `health`,
    /// false in a node started with HELLO_UNHEALTHY set.
    func writeEdition(_ edition: Int, withHealth: Bool = false) throws {
        var lines = [
            "#if canImport(Glibc)", "import Glibc", "#endif", "import Hot", "",
            "let module = HotModule(exports: [",
            "    .function(\"edition\", { () -> Int in \(edition) }),",
        ]
        if withHealth { lines.append("    .function(\"health\", { () -> Bool in getenv(\"HELLO_UNHEALTHY\") == nil }),") }
        lines.append("])")
        try scratch.write("app/modules/hello/hello.swift", lines.joined(separator: "\n") + "\n")
    }

    /// What `hello:edition` answers on a node.
    func edition(on name: String) throws -> Int? {
        let call = try hot(["call", "hello:edition", "--node", "unix:" + scratch.path("app/.hot/nodes/\(name)/node.sock")])
        return Int(call.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The version of a module (`hello`) a node boots after a restart.
    func permanentVersion(on name: String, module: String = "hello") throws -> Int? {
        let status = try hot(["status", "--node", "unix:" + scratch.path("app/.hot/nodes/\(name)/node.sock"), "--json"])
        let document = try parseJSON(status.stdout) as? [String: Any]
        let entry = (document?["modules"] as? [[String: Any]])?.first { $0["name"] as? String == module }
        return entry?["permanent"] as? Int
    }

    /// The pid of a node's follower.
    func followerPid(_ name: String) throws -> pid_t {
        let text = try scratch.read("app/.hot/nodes/\(name)/follower.pid")
        return try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Cuts the isolated node off from etcd; how, for the test's output.
    func cutOff() throws -> String {
        let name = try #require(isolated, "a fleet made without isolating a node")
        switch partition {
        case .namespace(let namespace):
            try namespace.cut()
            return "\(name) cut off by its network namespace \(namespace.name): link \(namespace.hostLink) down, etcd at \(namespace.hostAddress) silent"
        case .stoppedFollower(let why):
            kill(try followerPid(name), SIGSTOP)
            return "\(name) cut off by stopping its follower (SIGSTOP): no network namespace here, \(why)"
        case nil:
            preconditionFailure("isolated without a partition")
        }
    }

    /// Joins the isolated node to etcd again.
    func reconnect() throws {
        switch partition {
        case .namespace(let namespace): try namespace.mend()
        case .stoppedFollower: kill(try followerPid(try #require(isolated)), SIGCONT)
        case nil: preconditionFailure("isolated without a partition")
        }
    }

    /// `hot fleet status --json`.
    func status() throws -> [String: Any] {
        let status = try hot(["fleet", "status", "--etcd", cluster.urls, "--fleet", "web", "--json"])
        try #require(status.status == 0, "\(status)")
        return try #require(try parseJSON(status.stdout) as? [String: Any], "\(status)")
    }

    /// Each node's reported reason, by fleet id.
    func reasons() throws -> [String: String] {
        let nodes = try status()["nodes"] as? [[String: Any]] ?? []
        return nodes.reduce(into: [:]) { all, node in
            if let id = node["node"] as? String { all[id] = node["reason"] as? String ?? "" }
        }
    }

    /// The versions `hot build` last built, as a deploy ships them.
    func builtVersions() throws -> [ShippedVersion] {
        let built = try hot(["build", "--json"])
        try #require(built.status == 0, "\(built)")
        let document = try #require(try parseJSON(built.stdout) as? [String: Any], "\(built)")
        let modules = try #require(document["modules"] as? [[String: Any]], "\(built)")
        return try modules.map { module in
            let name = try #require(module["name"] as? String)
            let file = try #require(module["file"] as? String, "\(module)")
            return ShippedVersion(
                module: name, version: try #require(module["version"] as? Int), key: try #require(module["key"] as? String),
                path: scratch.path("app/.hot/build/\(name)/\(file)"))
        }
    }

    /// Asks `condition` every 100 ms until it holds, for up to `timeout`.
    func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw EtcdCluster.Failure("\(what): not within \(timeout)") }
            // Another process's state, with no event this test can wait on.
            usleep(100_000)
        }
    }

    /// Followers first (their node's end would end them too, but not at once), then the nodes, then etcd.
    func close() {
        let enumerator = FileManager.default.enumerator(atPath: scratch.root)
        while let item = enumerator?.nextObject() as? String {
            guard item.hasSuffix("follower.pid"),
                let text = try? String(contentsOfFile: scratch.path(item), encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            kill(pid, SIGKILL)
            for _ in 0..<100 where Scratch.isRunning(pid) { usleep(10_000) }
        }
        scratch.close()
        cluster.stop()
        namespace?.close()
    }
}
