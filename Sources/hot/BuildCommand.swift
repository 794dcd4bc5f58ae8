#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotCheck
import HotPlatform

/// `hot build`.
let buildCommand = Command(
    name: "build", summary: "compile the modules whose sources changed",
    usage: "build [MODULE...] [--all] [--since REV] [--release] [-j N] [--strict] [--json]",
    details: """
        Each module whose content key (its files' git ids, the include folders, swiftc flags,
        compiler, SDK, the host's build-id) is new is compiled into .hot/build/<m>/<m>.v<N>-<key12>.so
        and recorded in .hot/manifest.json; a module whose key was built before, on any branch,
        is found and not compiled again. With --since REV, only the modules that differ from
        REV are considered (the CI step: `hot build --since origin/main --json`).
        With "host": {"package": DIR, "product": P, "configuration": "debug"|"release"} in
        hot.json, modules compile against that SwiftPM package's build of P (run `swift build
        --product P` in DIR first): they may import its library targets and every module P
        links, never link them, and are rebuilt whenever P is rebuilt.
        One command at a time writes a project's builds (build, deploy, update, start hold
        .hot/lock); another waits for it, up to HOT_LOCK_TIMEOUT seconds (default 300).
        The frontend and linker run directly, with the command lines swiftc's driver prints
        for them (`swiftc -###`, then `clang -###` for the link), derived once per compiler and
        flags and kept in .hot/build/.driver-plans; when they cannot be derived, the build runs
        the driver and says so once. HOT_BUILD_DRIVER=1 always runs the driver.
        Before compiling, the sources of each module about to compile (and the include folders'
        files) are parsed and checked for what a reload does not carry: module-level mutable
        state (a top-level var, a static var, nonisolated(unsafe), a top-level or static let
        holding an Atomic, Mutex, ManagedAtomic, NIOLockedValueBox, OSAllocatedUnfairLock or
        NSLock), which starts fresh in each version, and work started outside Hot (Task { },
        Task.detached, Thread, DispatchQueue….async/asyncAfter, pthread_create), which keeps
        running the old version's code after a reload. Each site is a warning on stderr, as
        the compiler writes them (path:line:col: warning: [hot] ...), with the fix. A comment
        `// hot: allow [reason]` on the site's line silences it, and so does an entry of
        "checks": {"allow": ["MODULE/FILE.swift", "MODULE/FILE.swift:LINE", "MODULE/FILE.swift:NAME"]}
        in hot.json. With --strict (or "checks": {"strict": true}), they are errors: a module
        with any is not compiled and the build fails; a strict build checks the modules it finds
        already built too. --json adds them as "warnings", and "checks" with the files parsed
        and the seconds it took.
        """,
    options: [.allModules, .since, .release, .jobs, .strict, .json],
    arguments: 0...Int.max, argumentValues: [.modules]
) { (args) throws(CommandError) in
    let project = try currentProject()
    let json = args.has(.json)
    var options = try buildOptions(args, modules: args.positionals)
    if args.has(.allModules) { options.modules = [] }
    let lock = try lockProject(project)
    defer { lock.release() }
    let report = try runBuild(project, options, quiet: json)
    if json {
        printJSON([
            "commit": report.commit.map { .string($0) } ?? .null, "dirty": .bool(report.dirty),
            "modules": .list(report.modules.map(buildTerm)),
            "warnings": .list(report.checks.warnings.map(findingTerm)),
            "checks": ["files": .int(report.checks.files), "seconds": .double(report.checks.time.inSeconds)],
        ])
        return
    }
    for r in report.modules {
        switch r.status {
        case .cached: print("\(r.module) is up to date (v\(r.version?.version ?? 0))")
        case .deleted: print("\(r.module) was deleted")
        case .built: break
        }
    }
}

extension Option {
    static let allModules = Option("--all", .flag, help: "consider every module (the default without MODULE or --since)")
}

/// The build of `modules` that `--since`, `--release`, `--strict` and
/// `--jobs` ask for, for a command that declares them (`hot build`, `hot deploy`).
func buildOptions(_ args: ParsedArguments, modules: [String]) throws(CommandError) -> BuildOptions {
    var options = BuildOptions(modules: modules, since: args.value(.since), release: args.has(.release), strict: args.has(.strict))
    if let jobs = args.value(.jobs) {
        guard let n = Int(jobs), n > 0 else { throw .usage(.invalidValue(option: Option.jobs.name, value: jobs, reason: "a positive number")) }
        options.jobs = n
    }
    return options
}

/// Builds as `options` say, printing progress unless quiet; a compile
/// failure prints the compiler's output and fails. The caller holds the
/// project's lock (`lockProject`).
func runBuild(_ project: Project, _ options: BuildOptions, quiet: Bool = false) throws(CommandError) -> BuildReport {
    let progress = Progress(quiet: quiet, root: project.root)
    let result: Result<BuildReport, BuildError>
    do { result = .success(try Builder(project: project).build(options, progress: progress.report)) } catch { result = .failure(error) }
    progress.finish()
    switch result {
    case .success(let report):
        return report
    case .failure(.compile(let failures, _)):
        for failure in failures {
            let text = failure.hostAdvice ?? failure.output
            writeStderr(text.hasSuffix("\n") ? text : text + "\n")
        }
        throw .failed("build failed: \(failureSummary(failures)); nothing was deployed")
    case .failure(.interrupted):
        throw .exit(130)
    case .failure(.project(.unknownModule(let name, let known))):
        throw .usage(.invalidValue(option: "MODULE", value: name, reason: ProjectError.unknownModule(name, known: known).description))
    case .failure(let error):
        throw .failed(error.description)
    }
}

/// What a failed build's last line says: which modules the strict checks
/// refused (their errors above), and which did not compile.
func failureSummary(_ failures: [CompileFailure]) -> String {
    let refused = failures.filter { !$0.findings.isEmpty }
    let broken = failures.filter { $0.findings.isEmpty }.map(\.module)
    var parts: [String] = []
    if !refused.isEmpty {
        // An include file's finding is every refused module's: counted once.
        let count = Set(refused.flatMap(\.findings)).count
        parts.append(
            "\(refused.map(\.module).joined(separator: ", ")) not compiled: \(count) build check finding\(count == 1 ? "" : "s"), "
                + "errors in a strict build (above; `// hot: allow` or hot.json's checks.allow for the ones meant)")
    }
    if !broken.isEmpty { parts.append("\(broken.joined(separator: ", ")) did not compile (compiler output above)") }
    return parts.joined(separator: "; ")
}

/// The build checks' warnings, on stderr as the compiler writes its own, so
/// that editors and CI logs pick them up; `root` makes their paths absolute.
func printWarnings(_ findings: [Finding], root: String) {
    guard !findings.isEmpty else { return }
    writeStderr(findings.map { $0.diagnostic(.warning, root: root) + "\n" }.joined())
}

/// A finding in `--json` output; `file` is relative to the project.
func findingTerm(_ finding: Finding) -> Term {
    [
        "file": .string(finding.file), "line": .int(finding.line), "column": .int(finding.column), "kind": .string(finding.kind.rawValue),
        "message": .string(finding.message), "fix": .string(finding.fix),
    ]
}

/// Build progress: on a terminal, one live line (`[3/12] compiling chat_room`);
/// elsewhere, a plain line per module built.
final class Progress {
    private let quiet: Bool
    private let root: String
    private let live = isatty(1) == 1
    private var lineShown = false

    init(quiet: Bool, root: String) {
        self.quiet = quiet
        self.root = root
    }

    func report(_ event: BuildEvent) {
        // On stderr even under --json: the build is slower, and why is worth one line.
        if case .usingDriver(let reason) = event {
            clear()
            printError("compiling through the swiftc driver, not the frontend and linker directly: \(reason)")
            return
        }
        // On stderr even under --json too: editors read them there.
        if case .warnings(let findings) = event {
            clear()
            printWarnings(findings, root: root)
            return
        }
        guard !quiet else { return }
        switch event {
        case .compiling(let module, let version, let index, let total):
            guard live else { return }
            writeStdout("\r[\(index)/\(total)] compiling \(module) v\(version)\u{1B}[K")
            lineShown = true
        case .compiled(let module, let version, let took, let ok):
            clear()
            if ok { print("built \(module) v\(version) in \(formatDuration(took))") }
        case .usingDriver, .warnings: break
        }
    }

    func finish() { clear() }

    private func clear() {
        if lineShown {
            writeStdout("\r\u{1B}[K")
            lineShown = false
        }
    }
}

func buildTerm(_ r: ModuleBuild) -> Term {
    let v = r.version
    return [
        "name": .string(r.module), "version": v.map { .int($0.version) } ?? .null, "key": v.map { .string($0.key) } ?? .null,
        "file": v.map { .string($0.file) } ?? .null, "sha256": v.map { .string($0.sha256) } ?? .null,
        "status": .string(r.status.rawValue), "seconds": r.compileTime.map { .double($0.inSeconds) } ?? .null,
    ]
}

/// `850 ms`, `2.05 s`: how long a module took to compile.
func formatDuration(_ duration: Duration) -> String {
    let ms = Int((duration.inSeconds * 1000).rounded())
    if ms < 1000 { return "\(ms) ms" }
    let hundredths = (ms % 1000) / 10
    return "\(ms / 1000).\(hundredths < 10 ? "0" : "")\(hundredths) s"
}

/// Writes text to stdout at once (for the live progress line).
func writeStdout(_ text: String) {
    fflush(nil)
    _ = writeAll(1, Array(text.utf8))
}
