import PackagePlugin

/// Makes a hot module that is a target of the host's package a built-in
/// version of it: generates the entry the node finds in its own executable
/// at start (docs/ARCHITECTURE.md, "Built-in versions"; docs/EMBEDDING.md).
@main
struct HotModuleEntry: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let sources = module.sourceFiles(withSuffix: "swift").map(\.url)
        let output = context.pluginWorkDirectoryURL.appending(path: "\(target.name).hot-entry.swift")
        return [
            .buildCommand(
                displayName: "Writing the built-in entry of hot module \(target.name)",
                executable: try context.tool(named: "HotModuleEntryTool").url,
                arguments: [target.name, module.directoryURL.path(), output.path()] + sources.map { $0.path() },
                inputFiles: sources, outputFiles: [output])
        ]
    }
}
