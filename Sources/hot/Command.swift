import HotPlatform

/// What a command returns when it fails: the status and one line for stderr.
enum CommandError: Error {
    /// Exit 1: the operation failed.
    case failed(String)
    /// Exit 2: the command line was wrong.
    case usage(UsageError)
    /// Exit 3: the node could not be reached or refused the cookie.
    case unreachable(String)
    /// Exit with a status, having already said why.
    case exit(Int32)
}

/// Exit statuses (the CLI contract: scripts depend on them).
enum ExitStatus {
    static let ok: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 2
    static let unreachable: Int32 = 3
}

/// A command of `hot`: its name, its help, its options and what it does.
struct Command: Sendable {
    let name: String
    /// One line for `hot help`.
    let summary: String
    /// The usage line(s) after `hot `.
    let usage: String
    /// What `hot help NAME` says besides the usage.
    let details: String
    let options: [Option]
    /// How many positional arguments it takes.
    let arguments: ClosedRange<Int>
    /// What each positional argument may be, for shell completion: the i-th
    /// argument is the i-th entry, and the last entry stands for every
    /// argument after it that `arguments` allows.
    var argumentValues: [Option.Values] = []
    let run: @Sendable (ParsedArguments) throws(CommandError) -> Void
}

/// Options more than one command takes.
extension Option {
    /// Taken by every command (the dispatcher looks for it before parsing).
    static let help = Option("--help", .flag, short: "h", help: "show the command's usage and options")
    static let json = Option("--json", .flag, help: "print one JSON document on stdout")
    static let strict = Option(
        "--strict", .flag, help: "the build checks' findings are errors: such a module is not compiled and the build fails")
    static let node = Option(
        "--node", .repeated, valueName: "NAME|ADDRESS", values: .nodes,
        help: "the node: a name from hot.json, unix:PATH or tcp://HOST:PORT (default: the project's local node)")
    static let cookieFile = Option(
        "--cookie-file", .value, valueName: "PATH", values: .files, help: "the node's cookie (default: .hot/cookie of the project)")
    static let nodes = Option("--nodes", .value, valueName: "FILE", values: .files, help: "a nodes file: {\"nodes\": {NAME: ADDRESS}, \"groups\": {G: [NAME]}}")
    static let group = Option("--group", .value, valueName: "G", help: "only the nodes of this group of the nodes file")
    /// The options that choose nodes (`NodeSelection`).
    static let nodeOptions = [node, nodes, group, cookieFile]
    /// The options of a build, `hot build`'s and `hot deploy`'s (`buildOptions`).
    static let since = Option("--since", .value, valueName: "REV", help: "only modules that differ from REV (branch, tag, commit, HEAD~N)")
    static let release = Option("--release", .flag, help: "compile with -O")
    static let jobs = Option("--jobs", .value, valueName: "N", short: "j", help: "compilers at once (default: the core count)")
}
