import Hot
import HotBuild
import HotDeploy
import HotWire

/// `hot deploy`.
let deployCommand = Command(
    name: "deploy", summary: "build what changed and load it into running nodes",
    usage: "deploy [MODULE...] [--since REV] [--node NAME|ADDRESS]... [--purge] [--force] [--json]",
    details: """
        Builds the named modules (default: all), uploads every version a node does not run yet
        (verified by sha256), and loads them on each node at once: all become current or none.
        """,
    options: CommonOptions.nodeOptions + [
        Option("--purge", .flag, help: "stop processes still in old code before loading"),
        Option("--force", .flag, help: "reload sticky modules too"),
        Option("--since", .value, valueName: "REV", help: "only the modules that differ from REV"),
        Option("--release", .flag, help: "compile with -O"),
        Option("--jobs", .value, valueName: "N", short: "j", help: "compilers at once"),
        CommonOptions.json,
    ],
    arguments: 0...Int.max
) { (args) throws(CommandError) in
    try deploy(args, modules: args.positionals)
}

/// `hot update MODULE`.
let updateCommand = Command(
    name: "update", summary: "build one module and load it into the project's node",
    usage: "update MODULE [--node NAME|ADDRESS] [--json]",
    details: "The edit loop's step: `hot deploy MODULE` to the local node.",
    options: CommonOptions.nodeOptions + [CommonOptions.json], arguments: 1...1
) { (args) throws(CommandError) in
    try deploy(args, modules: args.positionals)
}

private func deploy(_ args: ParsedArguments, modules: [String]) throws(CommandError) {
    let project = try currentProject()
    let json = args.has("--json")
    let targets = try resolveNodes(args, project: project)
    let built = try runBuild(project, args, modules: modules, quiet: json)
    var report: [Term] = []
    var failures: [String] = []
    for target in targets {
        let client = try connect(target)
        do throws(ClientError) {
            let changes = try Deployment(client: client, buildDirectory: project.buildDirectory)
                .run(built.versions, purge: args.has("--purge"), force: args.has("--force"))
            for change in changes where !json {
                let from = change.from.map { "v\($0)" } ?? "none"
                print("\(client.nodeName): \(change.module) \(from) -> v\(change.to)")
            }
            if changes.isEmpty && !json { print("\(client.nodeName): already runs the newest version of every module") }
            failures += changes.flatMap { change in
                change.codeChangeFailures.map { "\(client.nodeName): server \($0.pid) of \(change.module) stays on its old version: codeChange failed: \($0.reason)" }
            }
            report.append([
                "node": .string(client.nodeName),
                "modules": .list(changes.map { change in
                    [
                        "name": .string(change.module), "from": change.from.map { .int($0) } ?? .null, "to": .int(change.to),
                        "codeChangeFailures": .list(change.codeChangeFailures.map { ["pid": .string($0.pid), "reason": .string($0.reason)] }),
                    ]
                }),
            ])
        } catch {
            throw clientFailure(error)
        }
    }
    if json { printJSON(["nodes": .list(report)]) }
    if !failures.isEmpty { throw .failed(failures.joined(separator: "; ")) }
}
extension BuiltVersion: Shippable {}
