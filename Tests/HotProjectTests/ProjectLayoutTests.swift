#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import Testing

/// Every path under `.hot/`, from the one type that knows them, and hot.json
/// read from real files.
@Suite("Project layout and hot.json")
struct ProjectLayoutTests {
    @Test("every path of a project lives under its root's .hot/, the default node's directly, others' in nodes/NAME/")
    func paths() {
        let layout = ProjectLayout(root: "/p", name: "shop")
        #expect(layout.configPath == "/p/hot.json")
        #expect(layout.hotDirectory == "/p/.hot")
        #expect(layout.buildDirectory == "/p/.hot/build")
        #expect(layout.driverPlansDirectory == "/p/.hot/build/.driver-plans")
        #expect(layout.manifestPath == "/p/.hot/manifest.json")
        #expect(layout.lockPath == "/p/.hot/lock")
        #expect(layout.cookiePath == "/p/.hot/cookie")
        #expect(layout.toolchainCachePath == "/p/.hot/toolchain")
        #expect(layout.host.directory == "/p/.hot/host")
        #expect(layout.host.cachePath == "/p/.hot/host/build.json")
        #expect(layout.host.modulesDirectory == "/p/.hot/host/Modules")
        let main = layout.localNode()
        #expect(layout.localNode("shop") == main, "the project's own name is the default node")
        #expect([main.socket, main.pid, main.log, main.supervisorPid, main.state]
            == ["/p/.hot/node.sock", "/p/.hot/node.pid", "/p/.hot/node.log", "/p/.hot/supervisor.pid", "/p/.hot/node"])
        let other = layout.localNode("n2")
        #expect([other.socket, other.pid, other.log, other.supervisorPid, other.state]
            == ["/p/.hot/nodes/n2/node.sock", "/p/.hot/nodes/n2/node.pid", "/p/.hot/nodes/n2/node.log",
                "/p/.hot/nodes/n2/supervisor.pid", "/p/.hot/nodes/n2/state"])
    }

    @Test("every path in the build folder comes from its code path, which a local node's --code-path names")
    func builds() {
        let layout = ProjectLayout(root: "/p", name: "shop")
        let builds = layout.builds
        #expect(builds.directory == layout.buildDirectory)
        #expect(builds.moduleFolder("greet") == "/p/.hot/build/greet")
        #expect(builds.builtPath(module: "greet", file: "greet.v3-0123456789ab.so") == "/p/.hot/build/greet/greet.v3-0123456789ab.so")
        #expect(builds.currentLink(module: "greet") == "/p/.hot/build/greet/current")
        #expect(builds.temporaryPath(module: "greet", file: "greet.v3-0123456789ab.so") == "/p/.hot/build/greet/.greet.v3-0123456789ab.so.tmp")
        #expect(builds.entryFile(module: "greet", version: 3) == "/p/.hot/build/greet/.entry.v3.swift")
        #expect(builds.driverPlansDirectory == layout.driverPlansDirectory)
        #expect(NodeFlags(project: layout, config: ProjectConfig(name: "shop")).codePath == builds.directory)
        #expect(CodePath("/srv/code").currentLink(module: "m") == "/srv/code/m/current", "a code path outside any project")
    }

    @Test("a state folder's files, wherever the folder is: a local node's under .hot/, or one --state names")
    func stateFolder() {
        let node = ProjectLayout(root: "/p", name: "shop").localNode("n2")
        #expect(node.stateFolder == StateFolder("/p/.hot/nodes/n2/state"))
        let folder = StateFolder("/var/lib/hot")
        #expect(folder.stagedDirectory == "/var/lib/hot/staged")
        #expect(folder.stagedPath("greet.v3-0123456789ab.so") == "/var/lib/hot/staged/greet.v3-0123456789ab.so")
        #expect(folder.permanentPath == "/var/lib/hot/permanent.json")
        #expect(folder.loadingPath == "/var/lib/hot/loading.json")
        #expect(folder.refusedPath == "/var/lib/hot/refused.json")
    }

    @Test("hot.json's text, as hot adopt writes it, reads back as the same configuration, host and all")
    func fileText() throws {
        let configs = [
            ProjectConfig(name: "shop", host: HostConfig(package: ".", product: "App")),
            ProjectConfig(
                name: "shop", include: ["shared"], sticky: ["db"], swiftcFlags: ["-Onone"], nodes: ["n2": "ssh://host/p.sock"],
                host: HostConfig(package: "server", product: "Server", configuration: .release), compact: CompactionThreshold(loads: 9)),
            ProjectConfig(name: "bare"),
        ]
        for config in configs {
            let text = config.fileText
            #expect(text.hasSuffix("}\n"))
            #expect(try withConfig(text) { try ProjectConfig.read(root: $0) } == config, "\(text)")
        }
    }

    /// A temporary project folder holding `config` as its hot.json; removed by `body`'s end.
    private func withConfig<T>(_ config: String?, _ body: (String) throws -> T) throws -> T {
        var template = Array("/tmp/hot-project-layout-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        let root = String(cString: made)
        defer { removeTree(root) }
        if let config { try writeFileAtomically(root + "/hot.json", Array(config.utf8)) }
        return try body(root)
    }

    private func refusal(_ config: String) throws -> String? {
        try withConfig(config) { (root) -> String? in
            do throws(ProjectConfig.ReadError) {
                _ = try ProjectConfig.read(root: root)
                return nil
            } catch {
                guard case .badConfig(let path, let reason) = error else { return "not badConfig: \(error)" }
                #expect(path == root + "/hot.json")
                #expect(!reason.contains("\n"), "one line: \(reason)")
                return reason
            }
        }
    }

    @Test("hot.json reads every field, with defaults for those left out")
    func reads() throws {
        let full = try withConfig(
            #"{"name": "shop", "modules": "mods", "include": ["shared"], "sticky": ["db"], "swiftcFlags": ["-g"], "nodes": {"n2": "tcp://127.0.0.1:9"}, "host": {"package": "app", "product": "App", "configuration": "release"}, "compact": {"afterLoads": 3}, "checks": {"strict": true}}"#
        ) { try ProjectConfig.read(root: $0) }
        #expect(full == ProjectConfig(
            name: "shop", modules: "mods", include: ["shared"], sticky: ["db"], swiftcFlags: ["-g"], nodes: ["n2": "tcp://127.0.0.1:9"],
            host: HostConfig(package: "app", product: "App", configuration: .release), compact: CompactionThreshold(loads: 3),
            checks: CheckSettings(strict: true)))
        #expect(try withConfig(#"{"name": "plain"}"#) { try ProjectConfig.read(root: $0) } == ProjectConfig(name: "plain"))
        let following = try withConfig(
            #"{"name": "shop", "fleet": {"etcd": ["http://10.0.0.1:2379", "10.0.0.2:2379"], "name": "web", "node": "edge-1@rack2"}}"#
        ) { try ProjectConfig.read(root: $0) }
        #expect(following.fleet == FleetSettings(etcd: ["http://10.0.0.1:2379", "10.0.0.2:2379"], name: "web", node: "edge-1@rack2"))
        #expect(try withConfig(#"{"name": "shop", "fleet": {"etcd": ["http://e:2379"], "name": "web"}}"#) { try ProjectConfig.read(root: $0) }.fleet?.node == nil)
        #expect(throws: ProjectConfig.ReadError.self) { try withConfig(nil) { try ProjectConfig.read(root: $0) } }
    }

    @Test("a field hot.json does not take is refused, naming it and what it takes, at the top and in host", arguments: [
        (#"{"name": "shop", "stikcy": ["db"]}"#, "\"stikcy\""),
        (#"{"name": "shop", "host": {"package": "app", "product": "App", "config": "release"}}"#, "\"config\""),
    ])
    func unknownField(config: String, named: String) throws {
        let reason = try #require(try refusal(config), "\(config) was accepted")
        #expect(reason.contains(named), "\(reason)")
        #expect(reason.contains("takes"), "says what it takes: \(reason)")
    }

    @Test("every object of hot.json refuses in the same words, naming all it takes")
    func refusalWords() throws {
        #expect(try refusal(#"{"name": "shop", "stikcy": []}"#)
            == #"hot.json takes "name", "modules", "include", "sticky", "swiftcFlags", "nodes", "host", "compact", "checks" and "fleet", not "stikcy""#)
        #expect(try refusal(#"{"name": "shop", "fleet": {"etcd": ["http://e:2379"], "name": "web", "nodeName": "a"}}"#)
            == #""fleet" takes "etcd", "name" and "node", not "nodeName""#)
        #expect(try refusal(#"{"name": "shop", "compact": {"afterLoad": 1}}"#)
            == #""compact" takes "afterLoads" and "afterRetainedBytes", not "afterLoad""#)
        #expect(try refusal(#"{"name": "shop", "checks": {"strcit": true}}"#) == #""checks" takes "strict" and "allow", not "strcit""#)
        #expect(try refusal(#"{"name": "shop", "host": {"package": "a", "product": "A", "config": "debug"}}"#)
            == #""host" takes "package", "product" and "configuration", not "config""#)
    }

    @Test("fields that decode but make no project are refused", arguments: [
        (#"{"name": ""}"#, "\"name\" is empty"),
        (#"{"name": "shop", "host": {"package": "", "product": "App"}}"#, "\"host\" needs"),
        (#"{"name": "shop", "compact": {"afterLoads": 0}}"#, "compact.afterLoads"),
        (#"{"sticky": []}"#, "name"),
        (#"{"name": "shop", "fleet": {"etcd": [], "name": "web"}}"#, "\"fleet.etcd\" needs at least one member"),
        (#"{"name": "shop", "fleet": {"etcd": ["https://e:2379"], "name": "web"}}"#, "\"fleet.etcd\" takes http://HOST:PORT, not \"https://e:2379\""),
        (#"{"name": "shop", "fleet": {"etcd": ["http://e:2379"], "name": "a/b"}}"#, "\"fleet.name\" takes letters"),
        (#"{"name": "shop", "fleet": {"etcd": ["http://e:2379"], "name": "web", "node": "a b"}}"#, "\"fleet.node\""),
        (#"{"name": "shop", "fleet": {"etcd": "http://e:2379", "name": "web"}}"#, "etcd"),
        (#"{"name": "shop", "fleet": {"etcd": ["http://e:2379"]}}"#, "name"),
    ])
    func refused(config: String, named: String) throws {
        let reason = try #require(try refusal(config), "\(config) was accepted")
        #expect(reason.contains(named), "\(reason)")
    }
}
