import HotWire

/// How a node runs: load a module on its first call, or only what is
/// deployed (docs/ARCHITECTURE.md, "Erlang's rules").
public enum NodeMode: String, Sendable, CaseIterable {
    case interactive, embedded
}

/// `hotnode`'s flags as a value: `hot start` renders them (`arguments`),
/// `hotnode` parses them back (`init(arguments:)`), and the one table of
/// `Flag` spells each for both, so the two sides cannot drift apart.
public struct NodeFlags: Sendable, Equatable {
    /// The name announced in every handshake.
    public var name: String
    /// Where the node listens for control connections.
    public var listen: [NodeAddress]
    /// The file holding the cookie clients must prove.
    public var cookieFile: String
    /// The state folder: staged objects, the permanent set, the load journal.
    public var state: String
    /// Where boot and interactive mode find built versions.
    public var codePath: String?
    /// Interactive or embedded.
    public var mode: NodeMode
    /// Modules that refuse reload unless forced, in the order given.
    public var sticky: [String]
    /// A file that holds the process id while the node runs.
    public var pidFile: String?
    /// How long a new object's trial load may run, in seconds; nil: the node's default.
    public var trialTimeout: Duration?
    /// When the node compacts by itself; never, by default.
    public var compaction: CompactionThreshold

    /// Flags from their values; only the four required ones have no default.
    public init(name: String, listen: [NodeAddress], cookieFile: String, state: String, codePath: String? = nil,
                mode: NodeMode = .interactive, sticky: [String] = [], pidFile: String? = nil, trialTimeout: Duration? = nil,
                compaction: CompactionThreshold = CompactionThreshold()) {
        self.name = name
        self.listen = listen
        self.cookieFile = cookieFile
        self.state = state
        self.codePath = codePath
        self.mode = mode
        self.sticky = sticky
        self.pidFile = pidFile
        self.trialTimeout = trialTimeout
        self.compaction = compaction
    }

    /// Makes these the flags of a node that follows a fleet, which runs what
    /// its fleet committed and nothing else: no code path, so neither its
    /// boot nor a call loads a local build, and embedded mode
    /// (docs/FLEETS.md, "What a node runs").
    public mutating func followFleet() {
        mode = .embedded
        codePath = nil
    }

    /// The flags of the local node `node` (nil: the default one) of a
    /// project: its files under `.hot/`, hot.json's sticky modules and
    /// compaction threshold, its socket and then `alsoListen`.
    public init(project layout: ProjectLayout, config: ProjectConfig, node: String? = nil, mode: NodeMode = .interactive,
                alsoListen: [NodeAddress] = []) {
        let local = layout.localNode(node)
        self.init(
            name: local.name, listen: [.unix(path: local.socket)] + alsoListen, cookieFile: layout.cookiePath, state: local.state,
            codePath: layout.builds.directory, mode: mode, sticky: config.sticky, pidFile: local.pid,
            compaction: config.compact ?? CompactionThreshold())
    }

    /// Every flag hotnode's node takes, spelt once.
    public enum Flag: String, Sendable, CaseIterable {
        case name = "--name"
        case listen = "--listen"
        case cookieFile = "--cookie-file"
        case state = "--state"
        case codePath = "--code-path"
        case mode = "--mode"
        case sticky = "--sticky"
        case pidFile = "--pid-file"
        case trialTimeout = "--trial-timeout"
        case compactAfterLoads = "--compact-after-loads"
        case compactAfterBytes = "--compact-after-bytes"
    }

    /// The flags, for hotnode's usage text.
    public static let usage = """
        --name NAME --listen ADDRESS [--listen ADDRESS]... --cookie-file PATH
                       --state DIR [--code-path DIR] [--mode interactive|embedded]
                       [--sticky MODULE]... [--pid-file PATH] [--trial-timeout SECONDS]
                       [--compact-after-loads N] [--compact-after-bytes N]
        """

    /// The command line that says these flags; `init(arguments:)` reads it
    /// back to an equal value.
    public var arguments: [String] {
        var result: [(Flag, String)] = [(.name, name)]
        result += listen.map { (.listen, $0.description) }
        result += [(.cookieFile, cookieFile), (.state, state)]
        if let codePath { result.append((.codePath, codePath)) }
        result.append((.mode, mode.rawValue))
        result += sticky.map { (.sticky, $0) }
        if let pidFile { result.append((.pidFile, pidFile)) }
        if let trialTimeout { result.append((.trialTimeout, "\(trialTimeout.inSeconds)")) }
        if let loads = compaction.loads { result.append((.compactAfterLoads, "\(loads)")) }
        if let bytes = compaction.retainedBytes { result.append((.compactAfterBytes, "\(bytes)")) }
        return result.flatMap { [$0.0.rawValue, $0.1] }
    }

    /// Reads the flags (the arguments after the executable's name); `--name`,
    /// `--listen`, `--cookie-file` and `--state` are required.
    public init(arguments: some Sequence<String>) throws(ParseError) {
        var name: String?
        var listen: [NodeAddress] = []
        var cookieFile: String?
        var state: String?
        var codePath: String?
        var sticky: [String] = []
        var pidFile: String?
        var mode = NodeMode.interactive
        var trialTimeout: Duration?
        var compaction = CompactionThreshold()
        var rest = Array(arguments)[...]
        while let option = rest.popFirst() {
            guard let flag = Flag(rawValue: option) else { throw .unknownOption(option) }
            guard let text = rest.popFirst() else { throw .missingValue(option: option) }
            switch flag {
            case .name: name = text
            case .listen:
                guard let address = NodeAddress(parsing: text) else {
                    throw .badValue(option: option, value: text, expected: "unix:PATH or tcp://HOST:PORT")
                }
                listen.append(address)
            case .cookieFile: cookieFile = text
            case .state: state = text
            case .codePath: codePath = text
            case .sticky: sticky.append(text)
            case .pidFile: pidFile = text
            case .trialTimeout:
                guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
                    throw .badValue(option: option, value: text, expected: "a number of seconds")
                }
                trialTimeout = .seconds(seconds)
            case .compactAfterLoads, .compactAfterBytes:
                guard let count = Int(text), count > 0 else {
                    throw .badValue(option: option, value: text, expected: "a whole number above 0")
                }
                if flag == .compactAfterLoads { compaction.loads = count } else { compaction.retainedBytes = count }
            case .mode:
                guard let parsed = NodeMode(rawValue: text) else {
                    throw .badValue(option: option, value: text, expected: "interactive or embedded")
                }
                mode = parsed
            }
        }
        guard let name, let cookieFile, let state, !listen.isEmpty else { throw .missingRequired }
        self.init(
            name: name, listen: listen, cookieFile: cookieFile, state: state, codePath: codePath, mode: mode, sticky: sticky,
            pidFile: pidFile, trialTimeout: trialTimeout, compaction: compaction)
    }

    /// Why `hotnode`'s flags do not make a node.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// A flag that takes a value came last.
        case missingValue(option: String)
        /// A value the flag does not accept.
        case badValue(option: String, value: String, expected: String)
        /// A flag `hotnode` does not know.
        case unknownOption(String)
        /// One of `--name`, `--listen`, `--cookie-file`, `--state` is missing.
        case missingRequired

        public var description: String {
            switch self {
            case .missingValue(let option): "\(option) needs a value"
            case .badValue(let option, let value, let expected): "\(option) takes \(expected), not '\(value)'"
            case .unknownOption(let option): "unknown option '\(option)'"
            case .missingRequired: "--name, --listen, --cookie-file and --state are required"
            }
        }
    }
}

/// `hotnode --supervise [--supervisor-pid-file PATH] NODE-FLAGS...`: a
/// supervisor that runs the node as its child and starts it again when it
/// dies. `hot start` renders it (`arguments`), hotnode reads it back
/// (`init(arguments:)`); the node's flags pass to the child as given, and
/// the child parses them (`NodeFlags`).
public struct SupervisorFlags: Sendable, Equatable {
    /// The first argument of a supervisor's command line.
    public static let flag = "--supervise"
    /// Where the supervisor writes its own pid.
    static let pidFileFlag = "--supervisor-pid-file"

    /// The supervisor's pid file, if it writes one.
    public var pidFile: String?
    /// The node's flags, for the child.
    public var node: [String]

    /// A supervisor of the node `flags` says.
    public init(pidFile: String?, node flags: NodeFlags) {
        self.pidFile = pidFile
        self.node = flags.arguments
    }

    /// The supervisor's command line (after the executable's name).
    public var arguments: [String] {
        [Self.flag] + (pidFile.map { [Self.pidFileFlag, $0] } ?? []) + node
    }

    /// Reads a supervisor's command line; nil when `arguments` do not start
    /// with `--supervise` (hotnode runs a node itself, or does something else).
    public init?(arguments: [String]) throws(NodeFlags.ParseError) {
        guard arguments.first == Self.flag else { return nil }
        var rest = arguments.dropFirst()
        if rest.first == Self.pidFileFlag {
            guard rest.count >= 2 else { throw .missingValue(option: Self.pidFileFlag) }
            pidFile = rest.dropFirst().first
            rest = rest.dropFirst(2)
        }
        node = Array(rest)
    }
}

/// `hotnode --relay SOCKET`: a relay that joins its standard input and
/// output to the node's socket at SOCKET, the far end of an ssh tunnel. The
/// one spelling of the flag: `HotDeploy`'s `SSHTunnel` renders it and
/// `hotnode` reads it back (`HotNode`'s `Relay`).
public enum RelayFlags {
    /// The first argument of a relay's command line.
    public static let flag = "--relay"

    /// A relay's command line (after the executable's name) to the socket `socket`.
    public static func arguments(socket: String) -> [String] { [flag, socket] }

    /// The socket a relay's command line names; nil when `arguments` are not a relay's.
    public static func socket(in arguments: [String]) -> String? {
        arguments.count == 2 && arguments[0] == flag ? arguments[1] : nil
    }
}
