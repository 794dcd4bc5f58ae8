import Foundation
import Testing

/// Deploys to a fleet: one project, eight local nodes (odd ones on their Unix
/// socket only, even ones also on TCP loopback and addressed by tcp:// in the
/// nodes file), real swiftc, real sockets; and the ssh transport through a
/// real sshd the test starts itself.
@Suite("Fleet deploys", .serialized)
struct FleetTests {
    @Test("a node that is down fails staging and nothing is committed anywhere")
    func nodeDownCommitsNothing() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        let before = try fleet.snapshot()
        // n6 dies hard: a stale Unix socket and a refused TCP port. The nodes
        // file also names a socket nobody ever listened on.
        try fleet.kill9("n6")
        let live = fleet.names.filter { $0 != "n6" }
        let broken = try fleet.writeNodesFile("broken.json", extra: ["n9": "unix:" + fleet.scratch.path("dead.sock")])

        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--nodes", broken])
        #expect(deployed.status == 3 || deployed.status == 1, "\(deployed)")
        #expect(deployed.stderr.contains("nothing was committed"), "\(deployed)")
        #expect(deployed.stderr.contains("n6") && deployed.stderr.contains("n9"), "names the unreachable nodes: \(deployed)")
        #expect(deployed.stderr.split(separator: "\n").count == 1, "one line: \(deployed)")

        // The same through --json: the live nodes staged, none committed.
        let json = try fleet.hot(["deploy", "--nodes", broken, "--json"])
        #expect(json.status == deployed.status, "\(json)")
        let report = try FleetFixture.deployReport(json)
        #expect(report["n6"]?.state == "failed" && report["n9"]?.state == "failed", "\(json.stdout)")
        #expect(report["n9"]?.reason?.contains("dead.sock") == true, "\(json.stdout)")
        for name in live {
            #expect(report[name]?.state == "staged", "\(name): \(json.stdout)")
            #expect(report[name]?.modules.isEmpty == true, "\(name) must not have changed: \(json.stdout)")
        }

        let after = try fleet.snapshot(try fleet.writeNodesFile("live.json", only: live))
        for name in live {
            #expect(after[name] == before[name], "\(name) changed: \(before[name]?.description ?? "nil") -> \(after[name]?.description ?? "nil")")
        }
        for name in ["n1", "n2"] {
            #expect(try fleet.edition(on: name) == 1, "\(name) must still run edition 1")
        }
    }

    @Test("a rolling deploy whose health check fails on n3 rolls back n1..n3 and never touches n4..n8")
    func rollingHealthFailure() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        let before = try fleet.snapshot()
        let healthLog = fleet.scratch.path("health.log")
        try fleet.writeEdition(2)
        let deployed = try fleet.hot([
            "deploy", "--nodes", fleet.nodesFile, "--strategy", "rolling", "--batch", "1", "--json",
            "--health-cmd", "echo \"$HOT_NODE_NAME $HOT_NODE\" >> '\(healthLog)'; test \"$HOT_NODE_NAME\" != n3",
        ])
        #expect(deployed.status == 1, "\(deployed)")
        #expect(deployed.stderr.contains("rolled back") && deployed.stderr.contains("n3"), "\(deployed)")
        let report = try FleetFixture.deployReport(deployed)
        for name in ["n1", "n2", "n3"] {
            #expect(report[name]?.state == "rolled back", "\(name): \(deployed.stdout)")
            #expect(report[name]?.modules == [FleetFixture.Change(name: "hello", from: 1, to: 2)], "\(name): \(deployed.stdout)")
        }
        #expect(report["n3"]?.reason?.contains("health") == true, "\(deployed.stdout)")
        for name in ["n4", "n5", "n6", "n7", "n8"] {
            #expect(report[name]?.state == "staged", "\(name) must never be committed: \(deployed.stdout)")
            #expect(report[name]?.modules.isEmpty == true, "\(name): \(deployed.stdout)")
        }

        // The health command ran once per committed node, in order, and stopped at n3.
        let lines = (try? String(contentsOfFile: healthLog, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        #expect(lines.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["n1", "n2", "n3"], "\(lines)")
        #expect(lines.count == 3 && lines[1] == "n2 tcp://127.0.0.1:\(fleet.ports["n2"] ?? 0)", "HOT_NODE is the node's address: \(lines)")

        let after = try fleet.snapshot()
        for name in ["n1", "n2", "n3"] {
            let state = try #require(after[name])
            #expect(state.current == before[name]?.current && state.currentKey == before[name]?.currentKey, "\(name): \(state)")
            #expect(state.permanent == 1, "\(name): \(state)")
            #expect(state.old == 2, "\(name): v2 stays loaded as old code: \(state)")
            #expect(try fleet.edition(on: name) == 1, "\(name) must run edition 1 again")
        }
        for name in ["n4", "n5", "n6", "n7", "n8"] {
            #expect(after[name] == before[name], "\(name) must be untouched: \(before[name]?.description ?? "nil") -> \(after[name]?.description ?? "nil")")
            #expect(after[name]?.old == nil, "\(name) shows no trace of v2: \(after[name]?.description ?? "nil")")
        }
    }

    @Test("a --temporary deploy does not survive a kill -9: the restarted node boots its permanent version")
    func temporaryDeployIsLostOnRestart() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--nodes", fleet.nodesFile, "--temporary", "--json"])
        try #require(deployed.status == 0, "\(deployed)")
        let report = try FleetFixture.deployReport(deployed)
        for name in fleet.names {
            #expect(report[name]?.state == "healthy", "\(name): temporary, so not permanent: \(deployed.stdout)")
        }
        let deployedState = try fleet.snapshot()
        for name in fleet.names {
            #expect(deployedState[name]?.current == 2 && deployedState[name]?.permanent == 1, "\(name): \(deployedState[name]?.description ?? "nil")")
        }

        // n2 is reached over TCP, n7 over its Unix socket.
        for name in ["n2", "n7"] {
            try fleet.kill9(name)
            try fleet.start(name)
        }
        let after = try fleet.snapshot()
        for name in ["n2", "n7"] {
            let state = try #require(after[name])
            #expect(state.current == 1 && state.permanent == 1 && state.old == nil, "\(name) must boot v1: \(state)")
            #expect(try fleet.edition(on: name) == 1, "\(name)")
        }
        for name in ["n1", "n8"] {
            #expect(after[name]?.current == 2, "\(name) was not restarted: \(after[name]?.description ?? "nil")")
        }
    }

    @Test("a permanent deploy survives a kill -9: the restarted node boots the new version")
    func permanentDeploySurvivesRestart() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--nodes", fleet.nodesFile, "--json"])
        try #require(deployed.status == 0, "\(deployed)")
        let report = try FleetFixture.deployReport(deployed)
        for name in fleet.names {
            #expect(report[name]?.state == "permanent", "\(name): \(deployed.stdout)")
            #expect(report[name]?.modules == [FleetFixture.Change(name: "hello", from: 1, to: 2)], "\(name): \(deployed.stdout)")
        }
        for name in ["n2", "n7"] {
            try fleet.kill9(name)
            try fleet.start(name)
        }
        let after = try fleet.snapshot()
        for name in fleet.names {
            let state = try #require(after[name])
            #expect(state.current == 2 && state.permanent == 2, "\(name): \(state)")
        }
        for name in ["n2", "n7"] {
            #expect(after[name]?.old == nil, "\(name) was restarted: \(after[name]?.description ?? "nil")")
            #expect(try fleet.edition(on: name) == 2, "\(name)")
        }
    }

    @Test("hot rollback makes the old version current on every node; --to 1 restages v1")
    func rollbackAcrossTheFleet() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        let v1Key = try #require(try fleet.snapshot()["n1"]?.currentKey)
        for edition in [2, 3] {
            try fleet.writeEdition(edition)
            let deployed = try fleet.hot(["deploy", "--nodes", fleet.nodesFile])
            try #require(deployed.status == 0, "edition \(edition): \(deployed)")
        }
        let deployed = try fleet.snapshot()
        for name in fleet.names {
            #expect(deployed[name]?.current == 3 && deployed[name]?.old == 2 && deployed[name]?.permanent == 3, "\(name): \(deployed[name]?.description ?? "nil")")
        }

        let back = try fleet.hot(["rollback", "hello", "--nodes", fleet.nodesFile])
        #expect(back.status == 0, "\(back)")
        for name in fleet.names {
            #expect(back.stdout.contains("\(name): hello v3 -> v2"), "\(name): \(back)")
        }
        let rolled = try fleet.snapshot()
        for name in fleet.names {
            let state = try #require(rolled[name])
            #expect(state.current == 2 && state.old == 3 && state.permanent == 2, "\(name): \(state)")
        }
        #expect(try fleet.edition(on: "n2") == 2)
        #expect(try fleet.edition(on: "n5") == 2)

        let toOne = try fleet.hot(["rollback", "hello", "--to", "1", "--nodes", fleet.nodesFile])
        #expect(toOne.status == 0, "\(toOne)")
        let restaged = try fleet.snapshot()
        for name in fleet.names {
            let state = try #require(restaged[name])
            #expect(state.current == 1 && state.currentKey == v1Key && state.permanent == 1, "\(name): \(state)")
        }
        #expect(try fleet.edition(on: "n4") == 1)
        #expect(try fleet.edition(on: "n7") == 1)
        // Made permanent: a restart boots v1.
        try fleet.kill9("n8")
        try fleet.start("n8")
        #expect(try fleet.snapshot()["n8"]?.current == 1)
    }

    @Test("canary: a health export failing on a canary node leaves the rest untouched; a healthy one goes everywhere")
    func canaryHealthFailure() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        let before = try fleet.snapshot()
        // Edition 2's `health` export answers false on n2, one of the two canaries.
        try fleet.writeEdition(2, unhealthyOn: ["n2"])
        let deployed = try fleet.hot([
            "deploy", "--nodes", fleet.nodesFile, "--strategy", "canary", "--canary", "2", "--canary-wait", "0", "--json",
        ])
        #expect(deployed.status == 1, "\(deployed)")
        let report = try FleetFixture.deployReport(deployed)
        #expect(report["n1"]?.state == "rolled back" && report["n2"]?.state == "rolled back", "\(deployed.stdout)")
        #expect(report["n2"]?.reason?.contains("hello:health") == true, "\(deployed.stdout)")
        let rest = ["n3", "n4", "n5", "n6", "n7", "n8"]
        for name in rest {
            #expect(report[name]?.state == "staged" && report[name]?.modules.isEmpty == true, "\(name): \(deployed.stdout)")
        }
        let after = try fleet.snapshot()
        for name in ["n1", "n2"] {
            #expect(after[name]?.current == 1 && after[name]?.permanent == 1, "\(name): \(after[name]?.description ?? "nil")")
            #expect(try fleet.edition(on: name) == 1, "\(name)")
        }
        for name in rest {
            #expect(after[name] == before[name], "\(name) must never change: \(after[name]?.description ?? "nil")")
        }

        // Edition 3's health export is healthy everywhere: canaries, then the rest.
        try fleet.writeEdition(3, unhealthyOn: [])
        let healthy = try fleet.hot([
            "deploy", "--nodes", fleet.nodesFile, "--strategy", "canary", "--canary", "2", "--canary-wait", "0", "--json",
        ])
        #expect(healthy.status == 0, "\(healthy)")
        let healthyReport = try FleetFixture.deployReport(healthy)
        let final = try fleet.snapshot()
        for name in fleet.names {
            #expect(healthyReport[name]?.state == "permanent", "\(name): \(healthy.stdout)")
            #expect(final[name]?.current == 3 && final[name]?.permanent == 3, "\(name): \(final[name]?.description ?? "nil")")
        }
    }

    @Test("canary: the canaries are checked after --canary-wait, so one that sickens while it soaks stops the rollout")
    func canaryCheckedAfterWait() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        let before = try fleet.snapshot()
        try fleet.writeEdition(2)
        try #require(try fleet.hot(["build"]).status == 0)
        // The canaries n1 and n2 are healthy for 1.5 s after the deploy starts,
        // then sick; the other nodes stay healthy. `--canary-wait 3` means
        // "seconds to wait before checking and going on" (hot help deploy),
        // so the canaries' check must come after their soak, and fail.
        let t0 = fleet.scratch.path("t0")
        let log = fleet.scratch.path("health.log")
        let command = """
            now=$(date +%s%3N); start=$(cat '\(t0)'); echo "$HOT_NODE_NAME $((now - start))" >> '\(log)'; \
            case "$HOT_NODE_NAME" in n1|n2) [ $((now - start)) -lt 1500 ];; *) true;; esac
            """
        try String(Int(Date().timeIntervalSince1970 * 1000)).write(toFile: t0, atomically: true, encoding: .utf8)
        let deployed = try fleet.hot([
            "deploy", "--nodes", fleet.nodesFile, "--strategy", "canary", "--canary", "2", "--canary-wait", "3",
            "--health-cmd", command, "--json",
        ])
        let checks = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(deployed.status == 1, "a canary that turned sick during --canary-wait must stop the rollout; health checks (node, ms after the deploy started):\n\(checks)exit \(deployed.status), stderr: \(deployed.stderr)")
        let after = try fleet.snapshot()
        let changed = ["n3", "n4", "n5", "n6", "n7", "n8"].filter { after[$0] != before[$0] }
        #expect(changed.isEmpty, "the nodes after the canaries must never change, yet \(changed) did: \(changed.map { "\($0) \(after[$0]?.description ?? "nil")" })")
        let notRolledBack = ["n1", "n2"].filter { after[$0]?.current != 1 }
        #expect(notRolledBack.isEmpty, "the sick canaries must be rolled back to v1: \(notRolledBack.map { "\($0) \(after[$0]?.description ?? "nil")" })")
    }

    @Test("a plain deploy after a --temporary one makes the running new versions permanent")
    func deployAfterTemporaryMakesPermanent() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        try fleet.writeEdition(2)
        let temporary = try fleet.hot(["deploy", "--nodes", fleet.nodesFile, "--temporary"])
        try #require(temporary.status == 0, "\(temporary)")
        // Now make it permanent: the same build, deployed without --temporary.
        let deployed = try fleet.hot(["deploy", "--nodes", fleet.nodesFile, "--json"])
        #expect(deployed.status == 0, "\(deployed)")
        let report = try FleetFixture.deployReport(deployed)
        let after = try fleet.snapshot()
        #expect(fleet.names.allSatisfy { after[$0]?.current == 2 }, "\(after)")
        let notPermanent = fleet.names.filter { after[$0]?.permanent != 2 }
        #expect(notPermanent.isEmpty, """
            a deploy without --temporary that exits 0 must leave the version it shipped permanent; \
            on \(notPermanent) a restart would boot another: \
            \(notPermanent.map { "\($0): \(after[$0]?.description ?? "nil"), deploy state \(report[$0]?.state ?? "?")" })
            """)
        try fleet.kill9("n3")
        try fleet.start("n3")
        #expect(try fleet.edition(on: "n3") == 2, "n3 restarted after a successful non-temporary deploy must run edition 2")
    }

    @Test("deploy timings to 1 and to 8 nodes (printed, not asserted)")
    func deployTimings() throws {
        let fleet = try FleetFixture()
        defer { fleet.close() }
        // Build first, so the timings are the deploys alone.
        try fleet.writeEdition(2)
        try #require(try fleet.hot(["build"]).status == 0)
        let start1 = ContinuousClock.now
        let one = try fleet.hot(["deploy", "--nodes", fleet.nodesFile, "--group", "one"])
        let time1 = ContinuousClock.now - start1
        try #require(one.status == 0, "\(one)")
        #expect(one.stdout.contains("n1: hello v1 -> v2"), "\(one)")

        try fleet.writeEdition(3)
        try #require(try fleet.hot(["build"]).status == 0)
        let start8 = ContinuousClock.now
        let eight = try fleet.hot(["deploy", "--nodes", fleet.nodesFile, "--json"])
        let time8 = ContinuousClock.now - start8
        try #require(eight.status == 0, "\(eight)")
        let report = try FleetFixture.deployReport(eight)
        #expect(fleet.names.allSatisfy { report[$0]?.state == "permanent" }, "\(eight.stdout)")
        #expect(report["n1"]?.modules == [FleetFixture.Change(name: "hello", from: 2, to: 3)], "\(eight.stdout)")
        #expect(report["n8"]?.modules == [FleetFixture.Change(name: "hello", from: 1, to: 3)], "\(eight.stdout)")
        print("FleetTests: deploy (build cached) to 1 node took \(milliseconds(time1)) ms, to 8 nodes (4 unix, 4 tcp) took \(milliseconds(time8)) ms")
    }

    @Test("ssh transport: call, status and deploy through a real sshd")
    func sshTransport() throws {
        let sshd = "/usr/sbin/sshd"
        try #require(FileManager.default.isExecutableFile(atPath: sshd),
                     "\(sshd) is missing: the ssh transport test needs openssh-server (`make test` installs it through scripts/deps.sh)")
        let keygen = try #require(["/usr/bin/ssh-keygen", "/bin/ssh-keygen"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                  "ssh-keygen is missing: `make test` installs openssh-client")
        try #require(["/usr/bin/ssh", "/bin/ssh"].contains { FileManager.default.isExecutableFile(atPath: $0) },
                     "ssh is missing: `make test` installs openssh-client")

        let fleet = try FleetFixture(nodes: 1)
        defer { fleet.close() }
        try #require(try fleet.hot(["start"]).status == 0)

        // A host key, a client key, and an sshd of our own on a free loopback port.
        let dir = fleet.scratch.path("ssh")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for key in ["host", "client"] {
            let made = try fleet.scratch.run(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", "\(dir)/\(key)"], in: dir)
            try #require(made.status == 0, "ssh-keygen: \(made)")
        }
        try FileManager.default.copyItem(atPath: "\(dir)/client.pub", toPath: "\(dir)/authorized_keys")
        if !FileManager.default.fileExists(atPath: "/run/sshd") {
            try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        let port = try freeLoopbackPort()
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host
            AuthorizedKeysFile \(dir)/authorized_keys
            PidFile \(dir)/sshd.pid
            StrictModes no
            UsePAM no
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no

            """.write(toFile: "\(dir)/sshd_config", atomically: true, encoding: .utf8)
        // Spawned directly, not with Foundation.Process: sshd closes every
        // inherited descriptor at start, which Foundation's child monitor
        // takes for an exit, then blocks in waitpid and stalls every later
        // Process of the test.
        let daemon = try SpawnedDaemon(sshd, ["-D", "-e", "-f", "\(dir)/sshd_config"], log: "\(dir)/sshd.log")
        defer { daemon.stop() }
        func sshdLog() -> String { (try? String(contentsOfFile: "\(dir)/sshd.log", encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(10)
        while !sshdLog().contains("Server listening"), daemon.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        try #require(daemon.isRunning && sshdLog().contains("Server listening"), "sshd did not start: \(sshdLog())")

        let environment = [
            "HOT_SSH_OPTIONS": "-i \(dir)/client -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "HOT_REMOTE_NODE": Binaries.directory + "/hotnode",
        ]
        let address = "ssh://\(user)@127.0.0.1:\(port)\(fleet.scratch.path("app/.hot/node.sock"))"

        let call = try fleet.hot(["call", "hello:greet", "bob", "--node", address], environment: environment)
        #expect(call.status == 0 && call.stdout == "\"Hello 1, bob!\"\n", "\(call)\nsshd: \(sshdLog())")

        let status = try fleet.hot(["status", "--node", address, "--json"], environment: environment)
        #expect(status.status == 0, "\(status)\nsshd: \(sshdLog())")
        let document = try parseJSON(status.stdout) as? [String: Any]
        #expect(document?["node"] as? String == "app", "\(status)")
        #expect(FleetFixture.HelloState(document ?? [:])?.current == 1, "\(status)")

        try fleet.writeEdition(2)
        let deployed = try fleet.hot(["deploy", "--node", address], environment: environment)
        #expect(deployed.status == 0, "\(deployed)\nsshd: \(sshdLog())")
        #expect(deployed.stdout.contains("hello v1 -> v2"), "\(deployed)")
        let local = try fleet.hot(["call", "hello:edition"])
        #expect(local.stdout == "2\n", "the node behind ssh runs v2: \(local)")

        // A nodes file mixing ssh and tcp, rolled out and read back through ssh.
        let mixed = fleet.scratch.path("mixed.json")
        try """
            {"nodes": {"app": "\(address)", "n1": "tcp://127.0.0.1:\(fleet.ports["n1"] ?? 0)"}}
            """.write(toFile: mixed, atomically: true, encoding: .utf8)
        try fleet.writeEdition(3)
        let rolled = try fleet.hot(["deploy", "--nodes", mixed, "--strategy", "rolling", "--json"], environment: environment)
        #expect(rolled.status == 0, "\(rolled)\nsshd: \(sshdLog())")
        let report = try FleetFixture.deployReport(rolled)
        #expect(report["app"]?.modules == [FleetFixture.Change(name: "hello", from: 2, to: 3)], "\(rolled.stdout)")
        #expect(report["n1"]?.modules == [FleetFixture.Change(name: "hello", from: 1, to: 3)], "\(rolled.stdout)")
        let states = try fleet.snapshot(mixed, environment: environment)
        #expect(states["app"]?.current == 3 && states["app"]?.permanent == 3, "\(states)")
        #expect(states["n1"]?.current == 3 && states["n1"]?.permanent == 3, "\(states)")
    }
}

// MARK: - The fleet

/// One project (module `hello`, edition 1 built as v1) and `nodes` local
/// nodes n1...nN started by `hot start --node`; the even ones also listen on
/// TCP loopback and the nodes file reaches them there.
private final class FleetFixture {
    let scratch: Scratch
    let names: [String]
    /// TCP ports of the nodes that listen on one.
    private(set) var ports: [String: UInt16] = [:]
    /// `nodes.json`: every node, and the group `one` (n1).
    private(set) var nodesFile = ""

    init(nodes count: Int = 8) throws {
        scratch = try Scratch()
        names = (1...count).map { "n\($0)" }
        do {
            try setUp()
        } catch {
            close()
            throw error
        }
    }

    private func setUp() throws {
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        try writeEdition(1)
        let built = try hot(["build"])
        try #require(built.status == 0 && built.stdout.contains("hello v1"), "\(built)")
        var used: Set<UInt16> = []
        for (index, name) in names.enumerated() where index % 2 == 1 || names.count == 1 {
            var port = try freeLoopbackPort()
            while used.contains(port) { port = try freeLoopbackPort() }
            used.insert(port)
            ports[name] = port
        }
        for name in names { try start(name) }
        nodesFile = try writeNodesFile("nodes.json")
    }

    /// Runs `hot` in the project.
    func hot(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        try scratch.hot(arguments, in: "app", environment: environment)
    }

    /// Starts (or restarts) a node, on the same TCP port as before.
    func start(_ name: String) throws {
        let listen = ports[name].map { ["--listen", "tcp://127.0.0.1:\($0)"] } ?? []
        let started = try hot(["start", "--node", name] + listen)
        try #require(started.status == 0 && started.stdout.contains("started"), "\(name): \(started)")
    }

    func address(_ name: String) -> String {
        ports[name].map { "tcp://127.0.0.1:\($0)" } ?? "unix:" + scratch.path("app/.hot/nodes/\(name)/node.sock")
    }

    /// Writes a nodes file (every node, or `only` those, plus `extra` entries); its path.
    func writeNodesFile(_ file: String, only: [String]? = nil, extra: [String: String] = [:]) throws -> String {
        var nodes: [String: String] = [:]
        for name in only ?? names { nodes[name] = address(name) }
        nodes.merge(extra) { $1 }
        let document: [String: Any] = [
            "nodes": nodes,
            "groups": ["one": [names[0]], "tcp": names.filter { ports[$0] != nil && nodes[$0] != nil }],
        ]
        let path = scratch.path(file)
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Rewrites `hello` as edition `edition`: `greet`, `edition`, and with
    /// `unhealthyOn` a `health` export that answers false on those nodes
    /// (read from the node's own command line, `--name N`).
    func writeEdition(_ edition: Int, unhealthyOn: [String]? = nil) throws {
        var lines = [
            "#if canImport(Glibc)",
            "import Glibc",
            "#endif",
            "import Hot",
            "",
            "// edition \(edition)",
            "let module = HotModule(exports: [",
            "    .function(\"greet\", greet),",
            "    .function(\"edition\", { () -> Int in \(edition) }),",
        ]
        if unhealthyOn != nil { lines.append("    .function(\"health\", health),") }
        lines += [
            "])",
            "",
            "func greet(_ name: String) -> String {",
            "    \"Hello \(edition), \\(name)!\"",
            "}",
        ]
        if let unhealthyOn {
            let list = unhealthyOn.map { "\"\($0)\"" }.joined(separator: ", ")
            lines += [
                "",
                "func health() -> Bool {",
                "    let unhealthy: [String] = [\(list)]",
                "    return !unhealthy.contains(nodeName())",
                "}",
                "",
                "/// The node's name, from its command line (`hotnode --name N ...`).",
                "func nodeName() -> String {",
                "    let fd = open(\"/proc/self/cmdline\", O_RDONLY)",
                "    guard fd >= 0 else { return \"\" }",
                "    defer { close(fd) }",
                "    var bytes: [UInt8] = []",
                "    var buffer = [UInt8](repeating: 0, count: 4096)",
                "    while true {",
                "        let n = read(fd, &buffer, buffer.count)",
                "        if n <= 0 { break }",
                "        bytes += buffer[0..<n]",
                "    }",
                "    let words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }",
                "    guard let index = words.firstIndex(of: \"--name\"), index + 1 < words.count else { return \"\" }",
                "    return words[index + 1]",
                "}",
            ]
        }
        try scratch.write("app/modules/hello/hello.swift", lines.joined(separator: "\n") + "\n")
    }

    /// What `hello:edition` answers on a node, reached at its nodes-file address.
    func edition(on name: String) throws -> Int? {
        let call = try hot(["call", "hello:edition", "--node", address(name)])
        return Int(call.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// SIGKILL to a node (pid from its pid file) and first to its supervisor,
    /// as when its machine goes down; returns once it is dead.
    func kill9(_ name: String) throws {
        if let text = try? String(contentsOfFile: scratch.path("app/.hot/nodes/\(name)/supervisor.pid"), encoding: .utf8),
            let supervisor = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(supervisor, SIGKILL)
            try? FileManager.default.removeItem(atPath: scratch.path("app/.hot/nodes/\(name)/supervisor.pid"))
        }
        let pidFile = scratch.path("app/.hot/nodes/\(name)/node.pid")
        let pid = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try #require(isRunning(pid), "\(name) (pid \(pid)) should be running")
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(5)
        while isRunning(pid), ContinuousClock.now < deadline { usleep(10_000) }
        try #require(!isRunning(pid), "\(name) (pid \(pid)) survived SIGKILL")
    }

    /// `hello` on every node of a nodes file (by the name each node announces).
    func snapshot(_ file: String? = nil, environment: [String: String] = [:]) throws -> [String: HelloState] {
        let status = try hot(["status", "--nodes", file ?? nodesFile, "--json"], environment: environment)
        try #require(status.status == 0, "\(status)")
        let parsed = try parseJSON(status.stdout)
        let documents = (parsed as? [[String: Any]]) ?? [(parsed as? [String: Any]) ?? [:]]
        var states: [String: HelloState] = [:]
        for document in documents {
            let name = try #require(document["node"] as? String, "\(status.stdout)")
            let state: HelloState = try #require(HelloState(document), "no hello on \(name): \(status.stdout)")
            states[name] = state
        }
        return states
    }

    /// Stops every node at once (SIGTERM, then SIGKILL), then the scratch
    /// folder goes. The nodes are orphans whose zombies the init process reaps
    /// in its own time, so "gone" is read from /proc, not from kill(pid, 0).
    func close() {
        let pidFiles = (try? FileManager.default.subpathsOfDirectory(atPath: scratch.path("app/.hot")))?
            .filter { $0.hasSuffix("node.pid") }.map { scratch.path("app/.hot/" + $0) } ?? []
        var pids: [(file: String, pid: pid_t)] = []
        for file in pidFiles {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), isRunning(pid)
            {
                pids.append((file, pid))
                kill(pid, SIGTERM)
            }
        }
        let deadline = ContinuousClock.now + .seconds(3)
        while pids.contains(where: { isRunning($0.pid) }), ContinuousClock.now < deadline { usleep(10_000) }
        for entry in pids {
            if isRunning(entry.pid) { kill(entry.pid, SIGKILL) }
            for _ in 0..<100 where isRunning(entry.pid) { usleep(10_000) }
            if !isRunning(entry.pid) { try? FileManager.default.removeItem(atPath: entry.file) }
        }
        scratch.close()
    }

    /// The `hello` entry of a node's status.
    struct HelloState: Equatable, CustomStringConvertible {
        var current: Int?
        var currentKey: String?
        var old: Int?
        var oldKey: String?
        var permanent: Int?

        init?(_ document: [String: Any]) {
            guard let hello = (document["modules"] as? [[String: Any]])?.first(where: { $0["name"] as? String == "hello" }) else { return nil }
            let current = hello["current"] as? [String: Any]
            let old = hello["old"] as? [String: Any]
            self.current = current?["version"] as? Int
            currentKey = current?["key"] as? String
            self.old = old?["version"] as? Int
            oldKey = old?["key"] as? String
            permanent = hello["permanent"] as? Int
        }

        var description: String {
            "current \(current.map { "v\($0)" } ?? "none") (\(currentKey.map { String($0.prefix(8)) } ?? "-")), old \(old.map { "v\($0)" } ?? "none") (\(oldKey.map { String($0.prefix(8)) } ?? "-")), permanent \(permanent.map { "v\($0)" } ?? "none")"
        }
    }

    struct Change: Equatable {
        let name: String
        let from: Int?
        let to: Int?
    }

    struct NodeReport {
        let state: String?
        let reason: String?
        let modules: [Change]
    }

    /// `hot deploy --json`'s document, by node.
    static func deployReport(_ outcome: Outcome) throws -> [String: NodeReport] {
        let document = try #require(try parseJSON(outcome.stdout) as? [String: Any], "not JSON: \(outcome)")
        let nodes = try #require(document["nodes"] as? [[String: Any]], "no nodes: \(outcome)")
        var report: [String: NodeReport] = [:]
        for node in nodes {
            let name = try #require(node["node"] as? String, "\(outcome.stdout)")
            let modules = (node["modules"] as? [[String: Any]] ?? []).map {
                Change(name: $0["name"] as? String ?? "?", from: $0["from"] as? Int, to: $0["to"] as? Int)
            }
            report[name] = NodeReport(state: node["state"] as? String, reason: node["reason"] as? String, modules: modules)
        }
        return report
    }
}

/// A child process started with posix_spawn (stdin /dev/null, stdout and
/// stderr appended to `log`), stopped by `stop()`.
private final class SpawnedDaemon {
    let pid: pid_t
    private var exited = false

    init(_ executable: String, _ arguments: [String], log: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        self.pid = pid
    }

    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// SIGTERM, up to 3 s, then SIGKILL; reaps the child.
    func stop() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<300 where isRunning { usleep(10_000) }
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            exited = true
        }
    }
}

private func milliseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
}

/// Whether a process runs (a zombie does not).
private func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let paren = stat.lastIndex(of: ")"), stat.distance(from: paren, to: stat.endIndex) > 2
    else { return false }
    let state = stat[stat.index(paren, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// A loopback TCP port that was free a moment ago (bound to port 0, then closed).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
        }
    }
    guard ok else { throw POSIXError(.EADDRINUSE) }
    return UInt16(bigEndian: address.sin_port)
}
