import HotWire

extension NodeConfiguration {
    /// `hotnode`'s node flags, described for its usage text.
    public static let argumentsUsage = """
        --name NAME --listen ADDRESS [--listen ADDRESS]... --cookie-file PATH
                       --state DIR [--code-path DIR] [--mode interactive|embedded]
                       [--sticky MODULE]... [--pid-file PATH] [--trial-timeout SECONDS]
                       [--compact-after-loads N] [--compact-after-bytes N]
        """

    /// Reads a configuration from `hotnode`'s flags (the arguments after the
    /// executable's name); `--name`, `--listen`, `--cookie-file` and `--state`
    /// are required.
    public init(arguments: some Sequence<String>) throws(ArgumentError) {
        var name: String?
        var listen: [NodeAddress] = []
        var cookieFile: String?
        var state: String?
        var codePath: String?
        var sticky: Set<String> = []
        var pidFile: String?
        var mode = Node.Mode.interactive
        var trialTimeout = TrialLoad.defaultTimeout
        var compaction = CompactionThreshold()
        var rest = Array(arguments)[...]
        while let option = rest.popFirst() {
            func value() throws(ArgumentError) -> String {
                guard let value = rest.popFirst() else { throw .missingValue(option: option) }
                return value
            }
            switch option {
            case "--name": name = try value()
            case "--listen":
                let text = try value()
                guard let address = NodeAddress(parsing: text) else {
                    throw .badValue(option: option, value: text, expected: "unix:PATH or tcp://HOST:PORT")
                }
                listen.append(address)
            case "--cookie-file": cookieFile = try value()
            case "--state": state = try value()
            case "--code-path": codePath = try value()
            case "--sticky": sticky.insert(try value())
            case "--pid-file": pidFile = try value()
            case "--trial-timeout":
                let text = try value()
                guard let seconds = Double(text), seconds > 0 else {
                    throw .badValue(option: option, value: text, expected: "a number of seconds")
                }
                trialTimeout = seconds
            case "--compact-after-loads", "--compact-after-bytes":
                let text = try value()
                guard let count = Int(text), count > 0 else {
                    throw .badValue(option: option, value: text, expected: "a whole number above 0")
                }
                if option == "--compact-after-loads" { compaction.loads = count } else { compaction.retainedBytes = count }
            case "--mode":
                let text = try value()
                guard let parsed = Node.Mode(rawValue: text) else {
                    throw .badValue(option: option, value: text, expected: "interactive or embedded")
                }
                mode = parsed
            default: throw .unknownOption(option)
            }
        }
        guard let name, let cookieFile, let state, !listen.isEmpty else { throw .missingRequired }
        self.init(
            name: name, listen: listen, cookieFile: cookieFile, state: state, codePath: codePath, mode: mode, sticky: sticky,
            pidFile: pidFile, trialTimeout: trialTimeout)
        self.compaction = compaction
    }

    /// Why `hotnode`'s flags do not make a configuration.
    public enum ArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
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
