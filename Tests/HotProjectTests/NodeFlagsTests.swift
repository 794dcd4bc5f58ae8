import HotProject
import HotWire
import Testing

/// hotnode's flags: what `hot start` renders, `hotnode` parses back.
@Suite("Node flags")
struct NodeFlagsTests {
    private let required = ["--name", "n1", "--listen", "unix:/tmp/n1.sock", "--cookie-file", "/c", "--state", "/s"]

    @Test("rendered flags parse back to the same value, every field set or left out", arguments: [
        NodeFlags(name: "n1", listen: [.unix(path: "/tmp/n1.sock")], cookieFile: "/c", state: "/s"),
        NodeFlags(
            name: "shop", listen: [.unix(path: "/p/.hot/node.sock"), .tcp(host: "127.0.0.1", port: 7070)], cookieFile: "/p/.hot/cookie",
            state: "/p/.hot/node", codePath: "/p/.hot/build", mode: .embedded, sticky: ["db", "auth"], pidFile: "/p/.hot/node.pid",
            trialTimeout: .seconds(2.5), compaction: CompactionThreshold(loads: 500, retainedBytes: 64_000_000)),
        NodeFlags(
            name: "n-2", listen: [.tcp(host: "localhost", port: 0)], cookieFile: "/c", state: "/s", trialTimeout: .seconds(30),
            compaction: CompactionThreshold(retainedBytes: 1)),
    ])
    func roundTrip(flags: NodeFlags) throws {
        #expect(try NodeFlags(arguments: flags.arguments) == flags)
    }

    @Test("a project's node: its files under .hot/, hot.json's sticky modules and threshold, then the extra address")
    func project() throws {
        let layout = ProjectLayout(root: "/p", name: "shop")
        let config = ProjectConfig(name: "shop", sticky: ["db"], compact: CompactionThreshold(loads: 9))
        let flags = NodeFlags(project: layout, config: config, node: "n2", mode: .embedded, alsoListen: [.tcp(host: "127.0.0.1", port: 9)])
        #expect(flags.name == "n2")
        #expect(flags.listen == [.unix(path: "/p/.hot/nodes/n2/node.sock"), .tcp(host: "127.0.0.1", port: 9)])
        #expect(flags.cookieFile == "/p/.hot/cookie")
        #expect(flags.state == "/p/.hot/nodes/n2/state")
        #expect(flags.codePath == "/p/.hot/build")
        #expect(flags.pidFile == "/p/.hot/nodes/n2/node.pid")
        #expect(flags.sticky == ["db"])
        #expect(flags.compaction == CompactionThreshold(loads: 9))
        #expect(try NodeFlags(arguments: flags.arguments) == flags)
        #expect(NodeFlags(project: layout, config: config).state == "/p/.hot/node", "the default node's state")
    }

    @Test("each flag is spelt once, in the table both sides use")
    func table() {
        let flags = NodeFlags(
            name: "n", listen: [.unix(path: "/x")], cookieFile: "/c", state: "/s", codePath: "/b", mode: .embedded, sticky: ["m"],
            pidFile: "/p", trialTimeout: .seconds(1), compaction: CompactionThreshold(loads: 1, retainedBytes: 1))
        let given = Set(flags.arguments.filter { $0.hasPrefix("--") })
        #expect(given == Set(NodeFlags.Flag.allCases.map(\.rawValue)), "every field set renders every flag")
        for flag in NodeFlags.Flag.allCases { #expect(NodeFlags.usage.contains(flag.rawValue), "usage lacks \(flag.rawValue)") }
    }

    @Test("bad flags are refused, naming the flag and the value")
    func refused() {
        #expect(throws: NodeFlags.ParseError.unknownOption("--colour")) { try NodeFlags(arguments: required + ["--colour", "red"]) }
        #expect(throws: NodeFlags.ParseError.missingValue(option: "--state")) { try NodeFlags(arguments: ["--state"]) }
        #expect(throws: NodeFlags.ParseError.missingRequired) { try NodeFlags(arguments: Array(required.dropLast(2))) }
        #expect(throws: NodeFlags.ParseError.badValue(option: "--mode", value: "lazy", expected: "interactive or embedded")) {
            try NodeFlags(arguments: required + ["--mode", "lazy"])
        }
        #expect(throws: NodeFlags.ParseError.badValue(option: "--listen", value: "nowhere", expected: "unix:PATH or tcp://HOST:PORT")) {
            try NodeFlags(arguments: required + ["--listen", "nowhere"])
        }
        for value in ["0", "-1", "soon", "inf", "nan"] {
            #expect(throws: NodeFlags.ParseError.badValue(option: "--trial-timeout", value: value, expected: "a number of seconds")) {
                try NodeFlags(arguments: required + ["--trial-timeout", value])
            }
        }
        for (flag, value) in [("--compact-after-loads", "0"), ("--compact-after-bytes", "1.5")] {
            #expect(throws: NodeFlags.ParseError.badValue(option: flag, value: value, expected: "a whole number above 0")) {
                try NodeFlags(arguments: required + [flag, value])
            }
        }
    }

    @Test("a supervisor's command line reads back to its pid file and the node's flags, which parse to the node")
    func supervisor() throws {
        let node = NodeFlags(name: "shop", listen: [.unix(path: "/p/.hot/node.sock")], cookieFile: "/c", state: "/s", sticky: ["db"])
        let supervisor = SupervisorFlags(pidFile: "/p/.hot/supervisor.pid", node: node)
        #expect(supervisor.arguments.prefix(3) == ["--supervise", "--supervisor-pid-file", "/p/.hot/supervisor.pid"])
        let read = try #require(try SupervisorFlags(arguments: supervisor.arguments))
        #expect(read == supervisor)
        #expect(try NodeFlags(arguments: read.node) == node)
        let bare = try #require(try SupervisorFlags(arguments: ["--supervise"] + node.arguments))
        #expect(bare.pidFile == nil && bare.node == node.arguments)
        #expect(try SupervisorFlags(arguments: node.arguments) == nil, "no --supervise: not a supervisor")
        #expect(throws: NodeFlags.ParseError.missingValue(option: "--supervisor-pid-file")) {
            try SupervisorFlags(arguments: ["--supervise", "--supervisor-pid-file"])
        }
    }

    @Test("a relay's command line: the one --relay that an ssh tunnel renders and hotnode reads back")
    func relay() {
        #expect(RelayFlags.arguments(socket: "/p/.hot/node.sock") == ["--relay", "/p/.hot/node.sock"])
        #expect(RelayFlags.socket(in: RelayFlags.arguments(socket: "/p/.hot/node.sock")) == "/p/.hot/node.sock")
        #expect(RelayFlags.socket(in: ["--relay"]) == nil, "no socket")
        #expect(RelayFlags.socket(in: ["--relay", "/a", "/b"]) == nil, "a second socket")
        #expect(RelayFlags.socket(in: ["--supervise", "/a"]) == nil)
    }
}
