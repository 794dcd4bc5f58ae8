import Foundation
import PackagePlugin

/// Makes a hot module that is a target of the host's package a built-in
/// version of it: generates the entry the node finds in its own executable
/// at start (docs/ARCHITECTURE.md, "Built-in versions"; docs/EMBEDDING.md).
///
/// One command: `sha256sum` computes the module's source key (`SourceKey`:
/// the digest of `sha256sum`'s listing of its files, by name), and
/// `HotModuleEntryTool` writes the entry with it. The digest is the
/// system's so that the tool needs only `Hot`: SwiftPM builds a plugin's
/// tool and everything it depends on again in every build. One command,
/// because a file between two would become a resource of the target.
@main
struct HotModuleEntry: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let folder = module.directoryURL.path()
        let sources = module.sourceFiles(withSuffix: "swift").map(\.url)
        let names = sources.map { $0.path().hasPrefix(folder) ? String($0.path().dropFirst(folder.count)) : $0.lastPathComponent }
            .map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }.sorted()
        let tool = try context.tool(named: "HotModuleEntryTool").url
        let output = context.pluginWorkDirectoryURL.appending(path: "\(target.name).hot-entry.swift")
        let script = #"set -e; tool=$1; name=$2; out=$3; cd "$4"; shift 4; key=$(sha256sum -- "$@" | sha256sum | cut -c1-64); exec "$tool" "$name" "$key" "$out""#
        return [
            .buildCommand(
                displayName: "Writing the built-in entry of hot module \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", tool.path(), target.name, output.path(), folder] + names,
                inputFiles: sources + [tool], outputFiles: [output])
        ]
    }
}
