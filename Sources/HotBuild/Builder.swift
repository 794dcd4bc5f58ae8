#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotWire

/// What to build.
public struct BuildOptions: Sendable {
    /// Modules to consider; empty means all.
    public var modules: [String]
    /// Build with -O.
    public var release: Bool
    /// Compilers running at once.
    public var jobs: Int

    /// Options with the defaults: every module, debug, one job per core.
    public init(modules: [String] = [], release: Bool = false, jobs: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) {
        self.modules = modules
        self.release = release
        self.jobs = max(1, jobs)
    }
}

/// The outcome for one module.
public struct ModuleBuild: Sendable {
    /// Built now, or found already built under the same key.
    public enum Status: String, Sendable { case built, cached }
    /// The version that is now the module's newest.
    public let version: BuiltVersion
    /// Whether it was compiled now.
    public let status: Status
}

/// A module that did not compile.
public struct CompileFailure: Sendable {
    /// The module.
    public let module: String
    /// The compiler's exit status.
    public let status: Int32
    /// The compiler's output.
    public let output: String
}

/// Why a build did not complete.
public enum BuildError: Error, Sendable, CustomStringConvertible {
    case project(ProjectError)
    case git(GitError)
    case toolchain(Toolchain.Failure)
    case system(SystemError)
    /// Some modules did not compile; the others (in `built`) did and are recorded.
    case compile([CompileFailure], built: [ModuleBuild])

    public var description: String {
        switch self {
        case .project(let e): e.description
        case .git(let e): e.description
        case .toolchain(let e): e.description
        case .system(let e): e.description
        case .compile(let failures, _):
            failures.map { "module \($0.module) failed to compile:\n\($0.output)" }.joined(separator: "\n")
        }
    }
}

/// What the builder reports as it goes.
public enum BuildEvent: Sendable {
    case compiling(module: String, version: Int, index: Int, total: Int)
    case compiled(module: String, version: Int, seconds: Double, ok: Bool)
}

/// Builds the modules whose content key is new: one swiftc per module, up to
/// `jobs` at once, each into a temporary file renamed into place on success.
public struct Builder: Sendable {
    /// The project.
    public let project: Project

    /// A builder for `project`.
    public init(project: Project) { self.project = project }

    /// Builds what changed and records it in the manifest.
    public func build(
        _ options: BuildOptions, progress: (BuildEvent) -> Void = { _ in }
    ) throws(BuildError) -> [ModuleBuild] {
        let all: [String]
        do { all = try project.moduleNames() } catch { throw .project(error) }
        guard !all.isEmpty else { throw .project(.noModules(path: project.config.modules)) }
        for name in options.modules where !all.contains(name) { throw .project(.unknownModule(name, known: all)) }
        let selected = options.modules.isEmpty ? all : all.filter { options.modules.contains($0) }

        do { try makeDirectories(project.buildDirectory) } catch { throw .system(error) }
        let toolchain: Toolchain
        do { toolchain = try Toolchain.locate(cacheFile: project.hotDirectory + "/toolchain") } catch {
            throw .toolchain(error)
        }
        var manifest: Manifest
        do { manifest = try Manifest.load(project.manifestPath) } catch { throw .project(error) }
        let source: SourceState
        do { source = try SourceState(project: project) } catch { throw .git(error) }

        let flags = project.config.swiftcFlags
        let includes: [(path: String, id: String)]
        do { includes = try project.includeFiles().map { (path) throws(GitError) in (path, try source.blobID(path)) } } catch {
            throw .git(error)
        }
        var results: [ModuleBuild] = []
        var jobs: [CompileJob] = []
        for module in selected {
            let files: [(path: String, id: String)]
            do { files = try project.sourceFiles(of: module).map { (path) throws(GitError) in (path, try source.blobID(path)) } } catch {
                throw .git(error)
            }
            let key = ContentKey(
                files: files, includes: includes, flags: flags + (options.release ? ["-O"] : []),
                compiler: toolchain.version
            ).hex
            if let known = manifest.version(module, key: key),
                fileExists("\(project.buildDirectory)/\(module)/\(known.file)")
            {
                results.append(ModuleBuild(version: known, status: .cached))
                continue
            }
            let version = manifest.nextVersion(module)
            let dirty = source.isDirty(under: [project.config.modules + "/" + module] + project.config.include)
            let commit = source.head.map { $0 + (dirty ? "+dirty" : "") }
            jobs.append(
                CompileJob(
                    module: module, version: version, key: key,
                    sources: files.map { project.root + "/" + $0.path },
                    buildDirectory: project.buildDirectory, toolchain: toolchain, flags: flags,
                    release: options.release, commit: commit))
        }

        var failures: [CompileFailure] = []
        let outcomes = try run(jobs, toolchain: toolchain, jobs: options.jobs, progress: progress)
        for (job, outcome) in zip(jobs, outcomes) {
            switch outcome {
            case .failure(let failure):
                failures.append(failure)
            case .success(let sha256):
                let built = BuiltVersion(
                    module: job.module, version: job.version, key: job.key,
                    file: lastPathComponent(job.output), sha256: sha256,
                    commit: source.head, dirty: source.isDirty(under: [project.config.modules + "/" + job.module] + project.config.include),
                    compiler: toolchain.version, time: wallClock(), release: options.release)
                manifest.versions.append(built)
                results.append(ModuleBuild(version: built, status: .built))
            }
        }
        // Each module's `current` link names the version its newest build of the
        // present sources produced: what a node boots from this folder.
        for result in results {
            let link = "\(project.buildDirectory)/\(result.version.module)/current"
            do { try replaceSymlink(link, target: result.version.file) } catch { throw .system(error) }
        }
        if !jobs.isEmpty || !results.isEmpty {
            do { try manifest.save(project.manifestPath) } catch { throw .system(error) }
        }
        results.sort { $0.version.module < $1.version.module }
        guard failures.isEmpty else { throw .compile(failures, built: results) }
        return results
    }

    private enum Outcome {
        case success(sha256: String)
        case failure(CompileFailure)
    }

    /// Runs the jobs, at most `jobs` compilers at once.
    private func run(
        _ plan: [CompileJob], toolchain: Toolchain, jobs: Int, progress: (BuildEvent) -> Void
    ) throws(BuildError) -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: plan.count)
        var running: [pid_t: (index: Int, process: Subprocess, log: String, started: Double)] = [:]
        var next = 0
        while next < plan.count || !running.isEmpty {
            while running.count < jobs && next < plan.count {
                let job = plan[next]
                let log = job.temporaryOutput + ".log"
                do {
                    try makeDirectories(parentDirectory(job.output))
                    try writeFileAtomically(job.entryFile, Array(job.entrySource.utf8))
                    unlink(log)
                    let process = try Subprocess.spawn(toolchain.swiftc, job.arguments, output: .file(log))
                    progress(.compiling(module: job.module, version: job.version, index: next + 1, total: plan.count))
                    running[process.pid] = (next, process, log, monotonic())
                } catch {
                    throw .system(error)
                }
                next += 1
            }
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 {
                if errno == EINTR { continue }
                throw .system(SystemError("waitpid"))
            }
            guard let entry = running.removeValue(forKey: pid) else { continue }
            let job = plan[entry.index]
            let exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            let output = readFile(entry.log).map { String(decoding: $0, as: UTF8.self) } ?? ""
            unlink(entry.log)
            unlink(job.entryFile)
            let seconds = monotonic() - entry.started
            if exit == 0, let bytes = readFile(job.temporaryOutput), rename(job.temporaryOutput, job.output) == 0 {
                outcomes[entry.index] = .success(sha256: SHA256Hasher.hex(of: bytes))
                progress(.compiled(module: job.module, version: job.version, seconds: seconds, ok: true))
            } else {
                unlink(job.temporaryOutput)
                outcomes[entry.index] = .failure(CompileFailure(module: job.module, status: exit, output: output))
                progress(.compiled(module: job.module, version: job.version, seconds: seconds, ok: false))
            }
        }
        return outcomes.map { $0! }
    }
}

/// Seconds on the monotonic clock.
public func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds since the epoch.
public func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
