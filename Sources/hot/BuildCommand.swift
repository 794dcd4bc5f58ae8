#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotWire

/// `hot build`.
let buildCommand = Command(
    name: "build", summary: "compile the modules whose sources changed",
    usage: "build [MODULE...] [--release] [-j N] [--json]",
    details: """
        Each module whose content key (its files, the include folders, flags, compiler, SDK)
        is new is compiled by one swiftc into .hot/build/<m>/<m>.v<N>-<key12>.so and recorded
        in .hot/manifest.json. Modules with a known key are not compiled again.
        """,
    options: [
        Option("--release", .flag, help: "compile with -O"),
        Option("--jobs", .value, valueName: "N", short: "j", help: "compilers at once (default: the core count)"),
        CommonOptions.json,
    ],
    arguments: 0...Int.max
) { (args) throws(CommandError) in
    let project = try currentProject()
    let json = args.has("--json")
    let results = try runBuild(project, args, quiet: json)
    if json {
        printJSON(["modules": .list(results.map(buildTerm))])
    } else {
        for r in results where r.status == .cached {
            print("\(r.version.module) is up to date (v\(r.version.version))")
        }
    }
}

/// Builds with the options of `args`, printing progress unless quiet;
/// a compile failure prints the compiler's output and fails.
func runBuild(_ project: Project, _ args: ParsedArguments, modules: [String]? = nil, quiet: Bool = false) throws(CommandError) -> [ModuleBuild] {
    var options = BuildOptions(modules: modules ?? args.positionals, release: args.has("--release"))
    if let jobs = args.value("--jobs") {
        guard let n = Int(jobs), n > 0 else { throw .usage(.invalidValue(option: "--jobs", value: jobs, reason: "a positive number")) }
        options.jobs = n
    }
    do {
        return try Builder(project: project).build(options) { event in
            guard !quiet else { return }
            switch event {
            case .compiling: break
            case .compiled(let module, let version, let seconds, let ok):
                if ok { print("built \(module) v\(version) in \(formatSeconds(seconds))") }
            }
        }
    } catch {
        if case .compile(let failures, _) = error {
            for failure in failures {
                writeStderr(failure.output.hasSuffix("\n") ? failure.output : failure.output + "\n")
            }
            let names = failures.map(\.module).joined(separator: ", ")
            throw .failed("build failed: \(names) did not compile (compiler output above); nothing was deployed")
        }
        if case .project(let e) = error, case .unknownModule = e { throw .usage(.invalidValue(option: "MODULE", value: modules?.first ?? args.positionals.first ?? "", reason: e.description)) }
        throw .failed(error.description)
    }
}

func buildTerm(_ r: ModuleBuild) -> Term {
    [
        "name": .string(r.version.module), "version": .int(r.version.version), "key": .string(r.version.key),
        "file": .string(r.version.file), "sha256": .string(r.version.sha256), "status": .string(r.status.rawValue),
    ]
}

func formatSeconds(_ seconds: Double) -> String {
    let ms = Int((seconds * 1000).rounded())
    return ms < 1000 ? "\(ms) ms" : "\(ms / 1000).\(String(format3(ms % 1000)).prefix(2)) s"
}

private func format3(_ n: Int) -> String {
    n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : "\(n)"
}
