#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import HotWire
import Testing

@testable import HotNode

/// The configuration a node is made from (`hotnode`'s flags, or a project's
/// files), and the trial's refusal of a child that never ran it.
@Suite("Node configuration")
struct NodeConfigurationTests {
    @Test("a project's node uses the files hot start gives its node, and hot.json's name and sticky modules")
    func projectFiles() throws {
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop", "sticky": ["db"]}"#.utf8))
        try makeDirectories(folder + "/modules/cart")

        // As the host runs it; a test bundle runs it in-process (below).
        let node = try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server")
        #expect(!node.inProcess)
        #expect(node.name == "shop")
        #expect(node.listen == [.unix(path: folder + "/.hot/node.sock")])
        #expect(node.cookieFile == folder + "/.hot/cookie")
        #expect(node.state == folder + "/.hot/node")
        #expect(node.codePath == folder + "/.hot/build")
        #expect(node.pidFile == folder + "/.hot/node.pid")
        #expect(node.sticky == ["db"])
        #expect(node.mode == .interactive)
        #expect(node.project?.root == folder)

        let further = try NodeConfiguration.project(root: folder, node: "n2", executable: "/srv/shop/Server")
        #expect(further.name == "n2")
        #expect(further.listen == [.unix(path: folder + "/.hot/nodes/n2/node.sock")])
        #expect(further.state == folder + "/.hot/nodes/n2/state")
        #expect(further.cookieFile == folder + "/.hot/cookie", "every local node of a project proves one cookie")

        #expect(throws: NodeConfiguration.ProjectFailure.notFound(from: folder + "/modules")) {
            try NodeConfiguration.project(root: folder + "/modules")
        }
    }

    @Test("a test bundle's project node is in-process: no listener, no pid file, no code path, hot.json's name and sticky modules, and the reason it gives")
    func inProcessInTestBundle() throws {
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop", "sticky": ["db"]}"#.utf8))
        // This process is one: swift test runs HotPackageTests.xctest.
        #expect(realPath("/proc/self/exe")?.hasSuffix(".xctest") == true)
        let node = try NodeConfiguration.project(root: folder)
        #expect(node.inProcess)
        #expect(node.name == "shop" && node.sticky == ["db"])
        #expect(node.listen.isEmpty && node.pidFile == nil && node.codePath == nil)
        #expect(node.project?.root == folder)
        #expect(node.inProcessReason.hasSuffix(".xctest is a test bundle, not the project's host"), "\(node.inProcessReason)")
        #expect(try NodeConfiguration.project(root: folder, node: nil, executable: "/x/AppPackageTests.xctest").inProcess)
        #expect(try !NodeConfiguration.project(root: folder, node: nil, executable: "/x/App").inProcess)
        #expect(NodeConfiguration.inProcess(name: "n").inProcess)
    }

    @Test("a project's node reads hot.json as hot does: a field it does not take is refused, naming it")
    func projectSchema() throws {
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop", "stikcy": ["db"]}"#.utf8))
        #expect(throws: NodeConfiguration.ProjectFailure.badConfig(
            path: folder + "/hot.json",
            reason: #"hot.json takes "name", "modules", "include", "sticky", "swiftcFlags", "nodes", "host", "compact", "checks" and "fleet", not "stikcy""#)
        ) {
            try NodeConfiguration.project(root: folder)
        }
    }

    @Test("a project's node follows hot.json's fleet, with HOT_ETCD, HOT_FLEET and HOT_FLEET_NODE over it; an in-process one never does; a malformed fleet is refused in one line")
    func projectFleet() throws {
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        try writeFileAtomically(
            folder + "/hot.json", Array(#"{"name": "shop", "fleet": {"etcd": ["http://10.0.0.1:2379"], "name": "web", "node": "edge-1"}}"#.utf8))
        let host = try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server")
        #expect(host.fleet == FleetSettings(etcd: ["http://10.0.0.1:2379"], name: "web", node: "edge-1"))
        let tests = try NodeConfiguration.project(root: folder, node: nil, executable: "/x/ShopPackageTests.xctest")
        #expect(tests.inProcess && tests.fleet == nil, "a test bundle's node must not join the fleet the app serves")
        #expect(NodeConfiguration.inProcess(name: "n").fleet == nil)
        #expect(try NodeConfiguration.project(root: folder, node: "n2", executable: "/srv/shop/Server").fleet?.name == "web")

        // The environment's variables override hot.json's fields, or make the whole fleet where it names none.
        let machine = ["HOT_ETCD": "http://10.0.0.9:2379,http://10.0.0.8:2379", "HOT_FLEET_NODE": "edge-9"]
        let overridden = try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server", environment: machine)
        #expect(overridden.fleet == FleetSettings(etcd: ["http://10.0.0.9:2379", "http://10.0.0.8:2379"], name: "web", node: "edge-9"))
        #expect(try NodeConfiguration.project(root: folder, node: nil, executable: "/x/ShopPackageTests.xctest", environment: machine).fleet == nil)
        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop"}"#.utf8))
        #expect(try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server", environment: [:]).fleet == nil)
        let whole = try NodeConfiguration.project(
            root: folder, node: nil, executable: "/srv/shop/Server", environment: ["HOT_ETCD": "http://e:2379", "HOT_FLEET": "web"])
        #expect(whole.fleet == FleetSettings(etcd: ["http://e:2379"], name: "web"))
        for (environment, named) in [
            (["HOT_ETCD": "http://e:2379"], "HOT_FLEET is not set"), (["HOT_FLEET_NODE": "a"], "HOT_ETCD is not set"),
            (["HOT_ETCD": "e", "HOT_FLEET": "web"], #""fleet.etcd" takes http://HOST:PORT, not "e", as HOT_ETCD"#),
            (["HOT_ETCD": "http://e:2379", "HOT_FLEET": "a/b"], #""fleet.name" takes"#),
        ] {
            do {
                _ = try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server", environment: environment)
                Issue.record("\(environment) was accepted")
            } catch {
                guard case .badEnvironment(let reason) = error else { Issue.record("\(error)"); continue }
                #expect(reason.hasPrefix(named) || reason.contains(named), "\(reason)")
                #expect(!reason.contains("\n"), "one line: \(reason)")
            }
        }

        try writeFileAtomically(folder + "/hot.json", Array(#"{"name": "shop", "fleet": {"etcd": ["etcd"], "name": "web"}}"#.utf8))
        #expect(throws: NodeConfiguration.ProjectFailure.badConfig(
            path: folder + "/hot.json", reason: #""fleet.etcd" takes http://HOST:PORT, not "etcd""#)
        ) {
            try NodeConfiguration.project(root: folder, node: nil, executable: "/srv/shop/Server")
        }
    }

    @Test("hotnode's flags make a configuration, and a wrong one is named")
    func flags() throws {
        let node = try NodeConfiguration(arguments: [
            "--name", "n1", "--listen", "unix:/tmp/n1.sock", "--listen", "tcp://127.0.0.1:0", "--cookie-file", "/c",
            "--state", "/s", "--mode", "embedded", "--sticky", "db", "--trial-timeout", "2.5",
        ])
        #expect(node.name == "n1")
        #expect(node.listen == [.unix(path: "/tmp/n1.sock"), .tcp(host: "127.0.0.1", port: 0)])
        #expect(node.mode == .embedded)
        #expect(node.sticky == ["db"])
        #expect(node.trialTimeout == .seconds(2.5))
        #expect(node.project == nil, "a node told every path makes no project folder")

        #expect(throws: NodeConfiguration.ArgumentError.missingRequired) { try NodeConfiguration(arguments: ["--name", "n1"]) }
        #expect(throws: NodeConfiguration.ArgumentError.missingValue(option: "--state")) {
            try NodeConfiguration(arguments: ["--state"])
        }
        #expect(throws: NodeConfiguration.ArgumentError.unknownOption("--colour")) {
            try NodeConfiguration(arguments: ["--colour"])
        }
        #expect(throws: NodeConfiguration.ArgumentError.badValue(option: "--mode", value: "lazy", expected: "interactive or embedded")) {
            try NodeConfiguration(arguments: ["--mode", "lazy"])
        }
    }

    @Test("a trial child that exits without running the trial is refused, and told what a host must call")
    func trialNotRun() throws {
        // /bin/true ignores HOT_TRIAL_LOAD, as a host that forgot runIfRequested would.
        do {
            try TrialLoad.check("/nonexistent/hello.v1-abc.so", executable: "/bin/true", timeout: .seconds(5))
            Issue.record("a child that ran no trial passed it")
        } catch {
            guard case .trialFailed(_, let reason, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(reason.contains("TrialLoad.runIfRequested()"), "\(reason)")
        }
    }

    @Test("a host whose spare trial child never says it is ready (it ends at once, or runs on): trials refuse as before, told what a host must call")
    func spareNeverReady() throws {
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        let object = folder + "/hello.v1-abc.so"
        try writeFileAtomically(object, Array("not an object".utf8))
        // /bin/true ends without a word; /bin/cat waits on its input, as a
        // host that went on to serve would.
        for executable in ["/bin/true", "/bin/cat"] {
            let loader = Loader(trialExecutable: executable, trialTimeout: .seconds(1), spare: true)
            defer { loader.closeTrials() }
            loader.prepareTrials()
            let started = monotonic()
            do {
                try loader.trial(object)
                Issue.record("\(executable): a child that ran no trial passed it")
            } catch {
                guard case .trialFailed(_, let reason, _) = error else {
                    Issue.record("\(executable): \(error)")
                    continue
                }
                #expect(reason.contains("TrialLoad.runIfRequested()"), "\(executable): \(reason)")
            }
            #expect(monotonic() - started < 4, "\(executable): the refusal took \(monotonic() - started) s")
        }
    }

    private func temporaryFolder() throws -> String {
        var template = Array("/tmp/hot-config-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        return String(cString: made)
    }
}
