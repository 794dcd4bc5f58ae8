#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotCheck
import HotPlatform
import HotProject

/// What to build.
public struct BuildOptions: Sendable {
    /// Modules to consider; empty means all.
    public var modules: [String]
    /// Build only the modules that changed since this revision.
    public var since: String?
    /// Build with -O.
    public var release: Bool
    /// Compilers running at once.
    public var jobs: Int
    /// What the build checks find fails the module (as hot.json's `checks.strict` does too).
    public var strict: Bool
    /// The host build to compile against, when the caller has chosen it
    /// already: the one the nodes deployed to run, which is `.build`'s or
    /// one `HostBuild.resolve` kept (docs/ARCHITECTURE.md, "Host modules").
    /// Nil: the build in `.build`.
    public var host: HostBuild?

    /// Options with the defaults: every module, debug, one job per core, findings as warnings.
    public init(modules: [String] = [], since: String? = nil, release: Bool = false, jobs: Int = processorCount(), strict: Bool = false) {
        self.modules = modules
        self.since = since
        self.release = release
        self.jobs = max(1, jobs)
        self.strict = strict
    }
}

/// The outcome for one module.
public struct ModuleBuild: Sendable {
    /// Built now, found already built under the same key, or gone from the sources.
    public enum Status: String, Sendable { case built, cached, deleted }
    /// The module.
    public let module: String
    /// The version that is now the module's current build (for a deleted
    /// module, its last build, if any).
    public let version: BuiltVersion?
    /// What happened.
    public let status: Status
    /// How long its compile took, when it was built now.
    public var compileTime: Duration? = nil
}

/// What a build did.
public struct BuildReport: Sendable {
    /// HEAD, or nil before the first commit.
    public let commit: String?
    /// Whether the project's files differ from HEAD.
    public let dirty: Bool
    /// One entry per module considered, by name.
    public let modules: [ModuleBuild]
    /// What the build checks found and what they cost.
    public var checks = BuildChecks()

    /// The versions built or found, without the deleted modules.
    public var versions: [BuiltVersion] { modules.compactMap { $0.status == .deleted ? nil : $0.version } }
}

/// A module that did not compile.
public struct CompileFailure: Sendable {
    /// The module.
    public let module: String
    /// The compiler's exit status.
    public let status: Int32
    /// The compiler's output.
    public let output: String
    /// The modules it imports that the host does not link (`no such module`),
    /// when the project names a host.
    public var missingFromHost: [String] = []
    /// The project's host, when it names one.
    public var host: HostConfig? = nil
    /// For a module the build checks refused (a strict build), what they
    /// found, and `output` says it as the compiler's errors; it was not compiled.
    public var findings: [Finding] = []

    /// For a failure that is an import of modules the host does not link,
    /// one line per module saying how to make the host link it; else nil.
    public var hostAdvice: String? {
        guard let host, !missingFromHost.isEmpty else { return nil }
        let dependencies = "the dependencies of \(host.product) in \(host.package)/Package.swift"
        let rebuild = "rebuild the host (`swift build --product \(host.product)` in \(host.package)), then run hot build again"
        return missingFromHost.map { name in
            // Every module imports the SDK (its generated entry does), which
            // comes from the host too: a host that runs a node links it.
            name == "Hot"
                ? "the host \(host.product) does not link Hot, which every module imports: add Hot's HotNode library to \(dependencies) and run a node in it, \(rebuild)"
                : "module \(module) imports \(name), which the host \(host.product) does not link: add the package that provides \(name) to \(dependencies), \(rebuild)"
        }.joined(separator: "\n")
    }
}

/// Why a build did not complete.
public enum BuildError: Error, Sendable, CustomStringConvertible {
    case project(ProjectError)
    case git(GitError)
    case toolchain(Toolchain.Failure)
    /// The host named in hot.json cannot be compiled against.
    case host(HostError)
    case system(SystemError)
    /// Some modules did not compile; the others (in `built`) did and are recorded.
    case compile([CompileFailure], built: [ModuleBuild])
    /// Interrupted (SIGINT or SIGTERM): the compilers were stopped and nothing partial kept.
    case interrupted
    /// The sources changed again during the build (see `BuildSupersession`):
    /// stopped like an interrupted build, nothing recorded.
    case superseded

    public var description: String {
        switch self {
        case .project(let e): e.description
        case .git(let e): e.description
        case .toolchain(let e): e.description
        case .host(let e): e.description
        case .system(let e): e.description
        case .compile(let failures, _):
            failures.map { failure in
                failure.hostAdvice
                    ?? (failure.findings.isEmpty
                        ? "module \(failure.module) failed to compile:\n\(failure.output)"
                        : "module \(failure.module) was not compiled: the build checks are errors in a strict build:\n\(failure.output)")
            }.joined(separator: "\n")
        case .interrupted: "build interrupted; no partial artifact was kept"
        case .superseded: "build stopped: its sources changed again; no partial artifact was kept"
        }
    }
}

/// What can make a running build pointless: `hot watch`'s sources, saved
/// again while the build runs. The builder waits on `events` beside its
/// compilers; when it is readable, `supersedes` says whether the modules
/// being built changed again, and if so the build stops as an interrupted
/// one does and throws `.superseded`, having recorded nothing.
public protocol BuildSupersession: AnyObject {
    /// Readable when there may be news.
    var events: Inotify { get }
    /// Takes the news; true when any of `modules` changed again.
    func supersedes(_ modules: [String]) -> Bool
}

/// What the builder reports as it goes.
public enum BuildEvent: Sendable {
    case compiling(module: String, version: Int, index: Int, total: Int)
    case compiled(module: String, version: Int, took: Duration, ok: Bool)
    /// What the build checks found in the modules about to compile, as
    /// warnings (a build that is not strict); said before they compile.
    case warnings([Finding])
    /// The build runs swiftc's driver, not the frontend and linker directly,
    /// because their command lines could not be derived; said once per plan
    /// key (docs/ARCHITECTURE.md, "Direct build").
    case usingDriver(reason: String)
}

/// Builds the modules whose content key is new: one compile per module (the
/// frontend and linker run directly, or swiftc's driver), up to `jobs` at
/// once, each into a temporary file renamed into place on success.
public struct Builder: Sendable {
    /// The project.
    public let project: Project

    /// A builder for `project`.
    public init(project: Project) { self.project = project }

    /// Builds what changed and records it in the manifest.
    public func build(
        _ options: BuildOptions, supersession: (any BuildSupersession)? = nil, progress: (BuildEvent) -> Void = { _ in }
    ) throws(BuildError) -> BuildReport {
        do {
            try project.makeHotDirectory()
            try makeDirectories(project.buildDirectory)
        } catch { throw .system(error) }
        let workspace = try Workspace(project: project, host: options.host)
        let all = try workspace.moduleNames()
        for name in options.modules where !all.contains(name) { throw .project(.unknownModule(name, known: all)) }
        var selected = options.modules.isEmpty ? all : all.filter { options.modules.contains($0) }
        var results: [ModuleBuild] = []
        if let since = options.since {
            let changes = try ChangeDetector(project: project).changes(workspace, since: since)
            let changed = Set(changes.filter { $0.kind != .deleted }.map(\.name))
            selected = selected.filter { changed.contains($0) }
            for change in changes where change.kind == .deleted && (options.modules.isEmpty || options.modules.contains(change.name)) {
                results.append(ModuleBuild(module: change.name, version: workspace.manifest.currentVersion(change.name), status: .deleted))
            }
        } else if all.isEmpty {
            throw .project(.noModules(path: project.config.modules))
        }

        let toolchain = try workspace.toolchain
        var manifest = workspace.manifest
        if options.since == nil && options.modules.isEmpty {
            // A module whose folder is gone is reported once as deleted, and
            // is no longer a current build.
            for name in manifest.current.keys.sorted() where !all.contains(name) {
                results.append(ModuleBuild(module: name, version: manifest.currentVersion(name), status: .deleted))
                manifest.current[name] = nil
            }
        }
        var jobs: [(CompileJob, ModuleSnapshot)] = []
        var sources: [String: [String]] = [:]
        for module in selected {
            let snapshot = try workspace.snapshot(module, release: options.release)
            sources[module] = snapshot.files.keys.sorted()
            if let known = manifest.version(module, key: snapshot.key),
                fileExists(project.builds.builtPath(module: module, file: known.file))
            {
                results.append(ModuleBuild(module: module, version: known, status: .cached))
                continue
            }
            let version = manifest.nextVersion(module)
            let dirty = try workspace.isDirty(module)
            let commit = workspace.source.head.map { $0 + (dirty ? "+dirty" : "") }
            let job = CompileJob(
                module: module, version: version, key: snapshot.key,
                sources: (snapshot.files.keys.sorted() + workspace.includes.keys.sorted()).map { project.root + "/" + $0 },
                buildDirectory: project.buildDirectory, toolchain: toolchain, flags: project.config.swiftcFlags,
                release: options.release, commit: commit, host: try workspace.host)
            jobs.append((job, snapshot))
        }

        var failures: [CompileFailure] = []
        let checks = applyChecks(
            jobs: &jobs, results: &results, failures: &failures, sources: sources, includes: workspace.includes.keys.sorted(),
            strict: options.strict)
        if !checks.warnings.isEmpty { progress(.warnings(checks.warnings)) }
        let outcomes = try run(jobs.map(\.0), toolchain: toolchain, jobs: options.jobs, supersession: supersession, progress: progress)
        for ((job, snapshot), outcome) in zip(jobs, outcomes) {
            switch outcome {
            case .failure(var failure):
                // An import the host's module folder lacks: the host does not link it.
                if let host = project.config.host {
                    failure.host = host
                    failure.missingFromHost = HostBuild.missingModules(in: failure.output)
                }
                failures.append(failure)
            case .success(let sha256, let took):
                let built = BuiltVersion(
                    module: job.module, version: job.version, key: job.key, file: lastPathComponent(job.output),
                    sha256: sha256, commit: workspace.source.head, dirty: try workspace.isDirty(job.module),
                    compiler: toolchain.version, time: now(), release: options.release,
                    files: snapshot.files, includes: workspace.includes)
                manifest.versions.append(built)
                results.append(ModuleBuild(module: job.module, version: built, status: .built, compileTime: took))
            }
        }
        // Each module's `current` link names the build of its present sources:
        // what a node boots, and what `hot changed` compares with.
        for result in results where result.status != .deleted {
            guard let version = result.version else { continue }
            let link = project.builds.currentLink(module: version.module)
            if readLink(link) != version.file {
                do { try replaceSymlink(link, target: version.file) } catch { throw .system(error) }
            }
            manifest.current[version.module] = version.version
        }
        if manifest != workspace.manifest {
            do { try manifest.save(project.manifestPath) } catch { throw .system(error) }
        }
        results.sort { $0.module < $1.module }
        guard failures.isEmpty else { throw .compile(failures, built: results) }
        var report = BuildReport(commit: workspace.source.head, dirty: try workspace.isDirty(), modules: results)
        report.checks = checks
        return report
    }
}

/// The target of a symbolic link, or nil.
func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n >= 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
