import Hot
import HotWire

/// A module's sources as they stand in the work tree, and the key they make.
public struct ModuleSnapshot: Sendable {
    /// The module.
    public let name: String
    /// Its files (project-relative) with their git blob ids.
    public let files: [String: String]
    /// The content key.
    public let key: String
}

/// Everything one build or change query reads once: the project, the
/// toolchain, the manifest and what git says of the work tree.
struct Workspace {
    let project: Project
    let toolchain: Toolchain
    let manifest: Manifest
    let source: SourceState
    /// The include folders' files with their blob ids.
    let includes: [String: String]

    init(project: Project) throws(BuildError) {
        self.project = project
        do { toolchain = try Toolchain.locate(cacheFile: project.hotDirectory + "/toolchain") } catch {
            throw .toolchain(error)
        }
        do { manifest = try Manifest.load(project.manifestPath) } catch { throw .project(error) }
        do { source = try SourceState(project: project) } catch { throw .git(error) }
        var includes: [String: String] = [:]
        do {
            for path in project.includeFiles() where !(try source.isIgnored(path)) { includes[path] = try source.blobID(path) }
        } catch { throw .git(error) }
        self.includes = includes
    }

    /// The modules present in the work tree.
    func moduleNames() throws(BuildError) -> [String] {
        do { return try project.moduleNames() } catch { throw .project(error) }
    }

    /// A module's files and key; `release` adds -O to the flags.
    func snapshot(_ module: String, release: Bool) throws(BuildError) -> ModuleSnapshot {
        var files: [String: String] = [:]
        do {
            // An ignored file is not a source: it never marks a module, nor is compiled.
            for path in project.sourceFiles(of: module) where !(try source.isIgnored(path)) { files[path] = try source.blobID(path) }
        } catch { throw .git(error) }
        let key = ContentKey(
            files: files.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            includes: includes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            flags: project.config.swiftcFlags + (release ? ["-O"] : []), compiler: toolchain.version
        ).hex
        return ModuleSnapshot(name: module, files: files, key: key)
    }

    /// Whether the module's folder or an include folder differs from HEAD.
    func isDirty(_ module: String) -> Bool {
        source.isDirty(under: [project.config.modules + "/" + module] + project.config.include)
    }

    /// Whether anything in the project differs from HEAD.
    var isDirty: Bool { !source.changed.isEmpty }
}
