import Hot
import HotBuild
import HotDeploy
import HotPlatform
import HotWire

/// `hot rollback`.
let rollbackCommand = Command(
    name: "rollback", summary: "make a module's old version current again (it is still loaded: no build)",
    usage: "rollback MODULE [--to VERSION] [--node NAME|ADDRESS]... [--nodes FILE] [--temporary] [--json]",
    details: """
        Without --to, the old version becomes current and the current one old, on every node
        named. With --to VERSION, that earlier build (from .hot/build) is staged and loaded
        again. Either way the result is made permanent unless --temporary.
        """,
    options: Option.nodeOptions + [.rollbackTo, .rollbackTemporary, .json],
    arguments: 1...1, argumentValues: [.modules]
) { (args) throws(CommandError) in
    let module = args.positionals[0]
    let project = try? Project.find(from: currentDirectory())
    var shipped: ShippedVersion?
    if let text = args.value(.rollbackTo) {
        guard let number = Int(text.hasPrefix("v") ? String(text.dropFirst()) : text), number > 0 else {
            throw .usage(.invalidValue(option: Option.rollbackTo.name, value: text, reason: "a version number such as 3"))
        }
        guard let project else { throw .failed("--to needs the project's builds: run it inside the project") }
        let manifest: Manifest
        do throws(ProjectError) { manifest = try Manifest.load(project.manifestPath) } catch { throw .failed(error.description) }
        guard let built = manifest.versions.last(where: { $0.module == module && $0.version == number }) else {
            throw .failed("no build of \(module) v\(number) in \(project.manifestPath); `hot build` makes new versions only")
        }
        shipped = ShippedVersion(module: module, version: number, key: built.key, path: project.builtPath(module: module, file: built.file))
    }
    var report: [Term] = []
    try eachNode(args) { (client) throws(ClientError) in
        let change: (from: Int?, to: Int)
        if let shipped {
            try client.stage(path: shipped.path, fileName: lastPathComponent(shipped.path))
            let loaded = try client.request(.load(files: [lastPathComponent(shipped.path)], purge: false, force: true))
            guard let result = loaded.modules.first(where: { $0.module == module }) else {
                throw .badReply(ReplyError(request: LoadReply.request, problem: .dataCorrupted("no entry for \(module)", path: "")))
            }
            change = (result.from, result.to)
        } else {
            let result = try client.request(.rollback(module: module))
            change = (result.from, result.to)
        }
        if !args.has(.rollbackTemporary) { _ = try client.request(.makePermanent(modules: [module])) }
        if args.has(.json) {
            report.append([
                "node": .string(client.nodeName), "module": .string(module), "from": change.from.map { .int($0) } ?? .null,
                "to": .int(change.to),
            ])
        } else {
            let from = change.from.map { "v\($0)" } ?? "none"
            print("\(client.nodeName): \(module) \(from) -> v\(change.to)\(args.has(.rollbackTemporary) ? " (temporary)" : "")")
        }
    }
    if args.has(.json) { printJSON(["nodes": .list(report)]) }
}

extension Option {
    static let rollbackTo = Option("--to", .value, valueName: "VERSION", help: "restage and load this earlier build of the module")
    static let rollbackTemporary = Option("--temporary", .flag, help: "do not make the result permanent")
}
