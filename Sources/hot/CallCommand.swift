import Hot
import HotBuild
import HotDeploy
import HotWire

/// `hot call`.
let callCommand = Command(
    name: "call", summary: "call an exported function and print its result as JSON",
    usage: "call MODULE:FUNCTION [ARG...] [--node NAME|ADDRESS]",
    details: "Each ARG is JSON; a bare word that is not JSON is a string: hot call hello:greet bob",
    options: CommonOptions.nodeOptions, arguments: 1...Int.max
) { (args) throws(CommandError) in
    let target = args.positionals[0]
    guard let colon = target.firstIndex(of: ":"), colon != target.startIndex, colon != target.index(before: target.endIndex) else {
        throw .usage(.invalidValue(option: "MODULE:FUNCTION", value: target, reason: "write it as module:function"))
    }
    let module = String(target[..<colon])
    let function = String(target[target.index(after: colon)...])
    let callArgs = args.positionals.dropFirst().map { JSON.parseWord($0) }
    let project = try? Project.find(from: currentDirectory())
    for node in try resolveNodes(args, project: project) {
        let client = try connect(node)
        do throws(ClientError) {
            let result = try client.request(.call(module: module, function: function, args: Array(callArgs)))
            printJSON(result, pretty: false)
        } catch {
            throw clientFailure(error)
        }
    }
}
