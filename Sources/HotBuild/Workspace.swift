import Hot
import HotPlatform
import HotProject

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
/// toolchain, the manifest and what git says of the work tree. The toolchain
/// and the module list are looked up on first use only: `hot changed --since`
/// needs no compiler unless a module was added.
final class Workspace {
    let project: Project
    let manifest: Manifest
    let source: SourceState
    /// The include folders' files with their blob ids.
    let includes: [String: String]
    /// The host build the caller chose, instead of the one in `.build`.
    let chosenHost: HostBuild?
    private var cachedToolchain: Toolchain?
    private var cachedHost: HostBuild??
    private var cachedModuleNames: [String]?

    /// The compiler and SDK.
    var toolchain: Toolchain {
        get throws(BuildError) {
            if let cachedToolchain { return cachedToolchain }
            do {
                let found = try Toolchain.locate(cacheFile: project.layout.toolchainCachePath)
                cachedToolchain = found
                return found
            } catch {
                throw .toolchain(error)
            }
        }
    }

    /// The host's build, when the project names a host: the one the caller
    /// chose, else the one in `.build`.
    var host: HostBuild? {
        get throws(BuildError) {
            if let cachedHost { return cachedHost }
            guard let config = project.config.host else {
                cachedHost = .some(nil)
                return nil
            }
            if let chosenHost {
                cachedHost = chosenHost
                return chosenHost
            }
            do {
                let found = try HostBuild.resolve(config, project: project)
                cachedHost = found
                return found
            } catch {
                throw .host(error)
            }
        }
    }

    init(project: Project, host: HostBuild? = nil) throws(BuildError) {
        self.project = project
        self.chosenHost = host
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
        if let cachedModuleNames { return cachedModuleNames }
        do {
            let names = try project.moduleNames()
            cachedModuleNames = names
            return names
        } catch {
            throw .project(error)
        }
    }

    /// A module's files (project-relative) with their blob ids.
    func files(_ module: String) throws(BuildError) -> [String: String] {
        var files: [String: String] = [:]
        do {
            // An ignored file is not a source: it never marks a module, nor is compiled.
            for path in project.sourceFiles(of: module) where !(try source.isIgnored(path)) { files[path] = try source.blobID(path) }
        } catch { throw .git(error) }
        return files
    }

    /// A module's files and key; `release` adds -O to the flags.
    func snapshot(_ module: String, release: Bool) throws(BuildError) -> ModuleSnapshot {
        let files = try self.files(module)
        let key = ContentKey(
            files: files.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            includes: includes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            flags: project.config.swiftcFlags + (release ? ["-O"] : []), compiler: try toolchain.version,
            host: try host?.fingerprint
        ).hex
        return ModuleSnapshot(name: module, files: files, key: key)
    }

    /// Whether the module's folder or an include folder differs from HEAD.
    func isDirty(_ module: String) throws(BuildError) -> Bool {
        do { return try source.isDirty(under: [project.config.modules + "/" + module] + project.config.include) } catch {
            throw .git(error)
        }
    }

    /// Whether anything in the project differs from HEAD.
    func isDirty() throws(BuildError) -> Bool {
        do { return try !source.changed().isEmpty } catch { throw .git(error) }
    }
}
