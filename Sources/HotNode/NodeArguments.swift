import HotProject
import HotWire

extension NodeConfiguration {
    /// `hotnode`'s node flags, described for its usage text (`NodeFlags.usage`).
    public static var argumentsUsage: String { NodeFlags.usage }

    /// Why `hotnode`'s flags do not make a configuration (`NodeFlags.ParseError`).
    public typealias ArgumentError = NodeFlags.ParseError

    /// Reads a configuration from `hotnode`'s flags (the arguments after the
    /// executable's name), as `NodeFlags` parses them.
    public init(arguments: some Sequence<String>) throws(ArgumentError) {
        self.init(flags: try NodeFlags(arguments: arguments))
    }
}
