import Hot
import HotBuild
import HotDeploy
import HotPlatform
import HotWire

/// `hot spawn`.
let spawnCommand = Command(
    name: "spawn", summary: "spawn a process (or start a server) in a module's current version",
    usage: "spawn MODULE:FUNCTION [ARG...] [--name NAME] [--node NAME|ADDRESS]",
    details: """
        The process runs FUNCTION(ARG...) in the module's current version and stays in that
        version until it returns or switches code. When FUNCTION names one of the module's
        servers, a server is started instead. Prints the pid.
        """,
    options: Option.nodeOptions + [.processName],
    arguments: 1...Int.max, argumentValues: [.moduleTargets, .none]
) { (args) throws(CommandError) in
    let (module, function) = try splitTarget(args.positionals[0])
    let callArgs = try args.positionals.dropFirst().map { (word) throws(CommandError) in try termArgument(word) }
    try eachNode(args) { (client) throws(ClientError) in
        let spawned = try client.request(.spawn(module: module, function: function, args: Array(callArgs), name: args.value(.processName)))
        print(spawned.pid.description)
    }
}

/// `hot send`.
let sendCommand = Command(
    name: "send", summary: "send a message (JSON, or a bare word as a string) to a pid or a registered name",
    usage: "send PID|NAME MESSAGE [--node NAME|ADDRESS]",
    details: "", options: Option.nodeOptions, arguments: 2...2
) { (args) throws(CommandError) in
    let message = try termArgument(args.positionals[1], what: "MESSAGE")
    try eachNode(args) { (client) throws(ClientError) in
        _ = try client.request(.send(to: args.positionals[0], message: message))
    }
}

/// `hot purge`.
let purgeCommand = Command(
    name: "purge", summary: "drop a module's old version, stopping the processes still in it",
    usage: "purge MODULE [--soft] [--node NAME|ADDRESS] [--json]",
    details: """
        Without --soft, processes running the old code are told to stop and waited for; any that
        would not stop are named, and their code stays mapped. With --soft, the purge is refused
        while any process runs the old code.
        """,
    options: Option.nodeOptions + [.soft, .json],
    arguments: 1...1, argumentValues: [.modules]
) { (args) throws(CommandError) in
    let module = args.positionals[0]
    try eachNode(args) { (client) throws(ClientError) in
        let result = try client.request(.purge(module: module, soft: args.has(.soft)))
        if args.has(.json) { return printJSON(result.term) }
        guard let version = result.purged else {
            print("\(client.nodeName): \(module) has no old code")
            return
        }
        var line = "\(client.nodeName): purged \(module) v\(version)"
        let work = result.work
        if !work.stopped.isEmpty { line += ", stopped \(work.stopped.map(\.description).joined(separator: " "))" }
        if work.cancelledCalls > 0 { line += ", cancelled \(work.cancelledCalls) call\(work.cancelledCalls == 1 ? "" : "s") in flight" }
        if !work.cancelledTasks.isEmpty {
            line += ", cancelled tracked task\(work.cancelledTasks.count == 1 ? "" : "s") \(work.cancelledTasks.joined(separator: ", "))"
        }
        print(line)
        if work.unendedCalls > 0 {
            throw .failed(code: .failed, message: "\(work.unendedCalls) cancelled call\(work.unendedCalls == 1 ? "" : "s") did not end; their code stays mapped")
        }
        if !work.stubborn.isEmpty {
            throw .failed(code: .failed, message: "\(work.stubborn.map(\.description).joined(separator: ", ")) did not stop; their code stays mapped")
        }
        if !work.unendedTasks.isEmpty {
            let unended = work.unendedTasks
            throw .failed(
                code: .failed,
                message: "tracked task\(unended.count == 1 ? "" : "s") \(unended.joined(separator: ", ")) did not end when cancelled; \(unended.count == 1 ? "its" : "their") code stays mapped")
        }
    }
}

/// `hot delete`.
let deleteCommand = Command(
    name: "delete", summary: "make a module's current version old: calls fail with undefined until the next deploy",
    usage: "delete MODULE [--node NAME|ADDRESS]",
    details: "", options: Option.nodeOptions, arguments: 1...1, argumentValues: [.modules]
) { (args) throws(CommandError) in
    let module = args.positionals[0]
    try eachNode(args) { (client) throws(ClientError) in
        let result = try client.request(.delete(module: module))
        print("\(client.nodeName): \(module) v\(result.old) is now old; calls to \(module) fail until the next deploy")
    }
}

/// `module:function`, split.
func splitTarget(_ target: String) throws(CommandError) -> (String, String) {
    guard let colon = target.firstIndex(of: ":"), colon != target.startIndex,
        colon != target.index(before: target.endIndex)
    else {
        throw .usage(.invalidValue(option: "MODULE:FUNCTION", value: target, reason: "write it as module:function"))
    }
    return (String(target[..<colon]), String(target[target.index(after: colon)...]))
}

/// A command-line value: JSON, or a bare word as a string. JSON nested
/// deeper than a request carries is a usage error, never sent as a string
/// nor left for the node to refuse.
func termArgument(_ word: String, what: String = "ARG") throws(CommandError) -> Term {
    let shown = word.count > 40 ? String(word.prefix(40)) + "…" : word
    let term: Term
    do { term = try JSON.parseWord(word) } catch {
        throw .usage(.invalidValue(option: what, value: shown, reason: error.message))
    }
    let depth = TermCodec.depth(of: term)
    guard depth <= TermCodec.maxDepth else {
        throw .usage(.invalidValue(
            option: what, value: shown, reason: "nests \(depth) levels deep; the limit is \(TermCodec.maxDepth)"))
    }
    return term
}

/// Runs `body` against every node the arguments name (a command that
/// declares `Option.nodeOptions`), mapping client errors to the contract's statuses.
func eachNode(_ args: ParsedArguments, _ body: (NodeClient) throws(ClientError) -> Void) throws(CommandError) {
    let project = try? Project.find(from: currentDirectory())
    for target in try resolveNodes(NodeSelection(args), project: project) {
        let client = try connect(target)
        do { try body(client) } catch { throw clientFailure(error) }
    }
}

extension Option {
    static let processName = Option("--name", .value, valueName: "NAME", help: "register the process under NAME")
    static let soft = Option("--soft", .flag, help: "refuse while processes run the old code")
}
