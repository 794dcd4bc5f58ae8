import Hot
import HotBuild
import HotDeploy
import HotPlatform

/// `hot call`.
let callCommand = Command(
    name: "call", summary: "call an exported function and print its result as JSON",
    usage: "call MODULE:FUNCTION [ARG...] [--node NAME|ADDRESS]",
    details: "Each ARG is JSON; a bare word that is not JSON is a string: hot call hello:greet bob",
    options: Option.nodeOptions, arguments: 1...Int.max, argumentValues: [.moduleTargets, .none]
) { (args) throws(CommandError) in
    let (module, function) = try splitTarget(args.positionals[0])
    let callArgs = try args.positionals.dropFirst().map { (word) throws(CommandError) in try termArgument(word) }
    try eachNode(args) { (client) throws(ClientError) in
        let result = try client.request(.call(module: module, function: function, args: Array(callArgs))).result
        printJSON(result, pretty: false)
    }
}
