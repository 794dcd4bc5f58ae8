#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject

/// Why a project could not be read.
public enum ProjectError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No `hot.json` in this folder or any above it.
    case notFound(from: String)
    /// `hot.json` is not valid JSON or lacks a field.
    case badConfig(path: String, reason: String)
    /// A folder under `modules/` whose name is not `[a-z][a-z0-9_]*`.
    case invalidModuleName(String, path: String)
    /// A module folder named as another module's version is compiled (`hello_v3`).
    case versionedModuleName(String, path: String)
    /// A module folder with the name patches of the host's code are built under.
    case reservedModuleName(String, path: String)
    /// No module folders.
    case noModules(path: String)
    /// A module named on the command line that the project does not have.
    case unknownModule(String, known: [String])

    public var description: String {
        switch self {
        case .notFound(let from):
            "no hot.json in \(from) or any folder above it; run `hot init` to make a project"
        case .badConfig(let path, let reason): "\(path): \(reason); fix the file and run the command again"
        case .invalidModuleName(let name, let path):
            "module folder '\(name)' in \(path) is not a valid module name: use lowercase letters, digits and _ , starting with a letter"
        case .versionedModuleName(let name, let path):
            "module folder '\(name)' in \(path) ends in _v and a number, the Swift module name a hot version of another module is compiled as: rename it"
        case .reservedModuleName(let name, let path):
            "module folder '\(name)' in \(path) has the name hot watch builds patches of the host's code under: rename it"
        case .noModules(let path): "no modules in \(path): add a folder with .swift files, e.g. \(path)/hello/hello.swift"
        case .unknownModule(let name, let known):
            "no module '\(name)' in this project (modules: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
        }
    }
}

/// A project on disk: its root, its configuration and its `.hot/` paths.
public struct Project: Sendable {
    /// The folder holding `hot.json`.
    public let root: String
    /// The parsed `hot.json`.
    public let config: ProjectConfig

    /// Finds `hot.json` in `folder` or the nearest folder above it.
    public static func find(from folder: String) throws(ProjectError) -> Project {
        guard let root = ProjectLayout.findRoot(from: folder) else { throw .notFound(from: folder) }
        return try load(root: root)
    }

    /// Reads the project whose `hot.json` is in `root`.
    public static func load(root: String) throws(ProjectError) -> Project {
        do {
            return Project(root: root, config: try ProjectConfig.read(root: root))
        } catch {
            switch error {
            case .missing(let path): throw .badConfig(path: path, reason: "cannot be read")
            case .badConfig(let path, let reason): throw .badConfig(path: path, reason: reason)
            }
        }
    }

    /// Where the project's generated files and local nodes' files live:
    /// the layout every node of the project shares (`ProjectLayout`, in
    /// `HotProject`, so that `HotNode` knows it without `HotBuild`).
    public var layout: ProjectLayout { ProjectLayout(root: root, name: config.name) }

    /// `.hot/`, ignored by git: build output, manifest, node socket, cookie, node state.
    public var hotDirectory: String { layout.hotDirectory }
    /// Creates `.hot/` owner-only (`ProjectLayout.makeHotDirectory`).
    public func makeHotDirectory() throws(SystemError) { try layout.makeHotDirectory() }
    /// Where versions are built: `<module>/<module>.vN-KEY.so`.
    public var buildDirectory: String { layout.buildDirectory }
    /// Every path inside the build folder (`CodePath`).
    public var builds: CodePath { layout.builds }
    /// Where version `file` of `module` is built.
    public func builtPath(module: String, file: String) -> String { builds.builtPath(module: module, file: file) }
    /// The record of every built version.
    public var manifestPath: String { layout.manifestPath }
    /// The lock one `hot` command at a time holds while it writes the builds (`ProjectLock`).
    public var lockPath: String { layout.lockPath }
    /// The local nodes' cookie.
    public var cookiePath: String { layout.cookiePath }
    /// The default local node's control socket.
    public var socketPath: String { layout.localNode().socket }
    /// The files of a local node (`ProjectLayout.localNode`).
    public func localNode(_ name: String?) -> LocalNode { layout.localNode(name) }

    /// The folder of module folders.
    public var modulesDirectory: String { root + "/" + config.modules }

    /// The module names, sorted; refuses a folder with an invalid name.
    public func moduleNames() throws(ProjectError) -> [String] {
        // A folder with no Swift file left is not a module (a deleted one, say).
        let names = listEntries(modulesDirectory).filter { $0.isDirectory && containsSwiftFile(config.modules + "/" + $0.name) }
            .map(\.name).sorted()
        for name in names where !HotSDK.isValidModuleName(name) {
            throw .invalidModuleName(name, path: config.modules)
        }
        // A module that is also a target of the host's package is a Swift
        // module of its own name in the host, beside the versions hot builds.
        for name in names where ModuleDescriptor.looksVersioned(name) {
            throw .versionedModuleName(name, path: config.modules)
        }
        if names.contains(HostPatcher.module) { throw .reservedModuleName(HostPatcher.module, path: config.modules) }
        return names
    }

    /// The `.swift` files of a module, relative to the project root, sorted.
    public func sourceFiles(of module: String) -> [String] {
        swiftFiles(under: config.modules + "/" + module)
    }

    /// The `.swift` files of the include folders, relative to the project root, sorted.
    public func includeFiles() -> [String] {
        config.include.flatMap { swiftFiles(under: $0) }.sorted()
    }

    private func swiftFiles(under relative: String) -> [String] {
        var result: [String] = []
        for entry in listEntries(root + "/" + relative) {
            let path = relative + "/" + entry.name
            if entry.isDirectory {
                if Project.isSearchedFolder(entry.name) { result += swiftFiles(under: path) }
            } else if Project.isSourceFile(entry.name) {
                result.append(path)
            }
        }
        return result.sorted()
    }

    /// Whether a folder holds a `.swift` file at any depth; stops at the first.
    private func containsSwiftFile(_ relative: String) -> Bool {
        let entries = listEntries(root + "/" + relative)
        if entries.contains(where: { !$0.isDirectory && Project.isSourceFile($0.name) }) { return true }
        return entries.contains { $0.isDirectory && Project.isSearchedFolder($0.name) && containsSwiftFile(relative + "/" + $0.name) }
    }

    // What makes a module, in the work tree and in a revision's tree alike: a
    // folder under the modules folder holding, at any depth, a source file.
    // A hidden file or folder (an editor's, a tool's) is never looked at.

    /// Whether a file of this name in a module folder is a source.
    static func isSourceFile(_ name: String) -> Bool { !name.hasPrefix(".") && name.hasSuffix(".swift") }

    /// Whether a folder of this name in a module folder is searched for sources.
    static func isSearchedFolder(_ name: String) -> Bool { !name.hasPrefix(".") }

    /// Whether a path relative to a module folder names a source.
    static func isSourcePath(_ path: Substring) -> Bool {
        let parts = path.split(separator: "/")
        guard let file = parts.last else { return false }
        return isSourceFile(String(file)) && parts.dropLast().allSatisfy { isSearchedFolder(String($0)) }
    }
}
