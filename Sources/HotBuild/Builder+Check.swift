import HotCheck
import HotProject
import HotPlatform

/// What the build checks did in one build (docs/ARCHITECTURE.md, "Build checks").
public struct BuildChecks: Sendable {
    /// The findings reported as warnings: every one hot.json does not
    /// allow, unless the build is strict (then they are failures).
    public var warnings: [Finding] = []
    /// The files read and parsed.
    public var files = 0
    /// The time spent reading and parsing them.
    public var time = Duration.zero

    public init() {}
}

/// The findings of one build's modules, before strictness decides what they are.
struct CheckedModules {
    /// Each checked module's own findings.
    var modules: [String: [Finding]] = [:]
    /// The include folders' findings: compiled into every module, they are
    /// every checked module's too.
    var includes: [Finding] = []
    var files = 0
    var time = Duration.zero

    /// A module's findings, its include files' among them.
    func findings(_ module: String) -> [Finding] { (modules[module] ?? []) + includes }
}

extension Builder {
    /// Parses the files of `modules` (project-relative paths) and, when any
    /// module is checked, the include folders' files, each once, and keeps
    /// the findings hot.json's `checks.allow` does not cover. A file that
    /// cannot be read is passed over: the compiler says why.
    func check(_ modules: [(name: String, files: [String])], includes: [String], settings: CheckSettings) -> CheckedModules {
        var result = CheckedModules()
        guard !modules.isEmpty else { return result }
        let started = ContinuousClock.now
        func parse(_ paths: [String]) -> [FileCheck] {
            paths.compactMap { path in
                readFile(project.root + "/" + path).map { FileCheck(file: path, source: $0) }
            }
        }
        func kept(_ findings: [Finding]) -> [Finding] {
            findings.filter { !settings.allows($0, modules: project.config.modules) }
        }
        let included = parse(includes)
        result.includes = kept(SourceCheck.findings(in: included))
        result.files = included.count
        for module in modules {
            let files = parse(module.files)
            result.files += files.count
            let found = kept(SourceCheck.findings(in: files, alongside: included))
            if !found.isEmpty { result.modules[module.name] = found }
        }
        result.time = ContinuousClock.now - started
        return result
    }

    /// Runs the checks before anything compiles. Only the modules about to
    /// compile are checked, so a no-op build parses nothing; a strict build
    /// checks the ones found built as well, so that a `.hot/` kept between
    /// CI runs cannot hide a finding. Not strict, the findings become the
    /// report's warnings. Strict, each module with findings (or every one
    /// checked, for a finding in an include file) becomes a failure and is
    /// neither compiled nor made current; each finding is said once.
    func applyChecks(
        jobs: inout [(CompileJob, ModuleSnapshot)], results: inout [ModuleBuild], failures: inout [CompileFailure],
        sources: [String: [String]], includes: [String], strict: Bool
    ) -> BuildChecks {
        let settings = project.config.checks ?? CheckSettings()
        let strict = strict || settings.strict
        let names = jobs.map(\.0.module) + (strict ? results.filter { $0.status == .cached }.map(\.module) : [])
        let checked = check(names.sorted().map { ($0, sources[$0] ?? []) }, includes: includes, settings: settings)
        var checks = BuildChecks()
        checks.files = checked.files
        checks.time = checked.time
        guard strict else {
            checks.warnings = checked.modules.keys.sorted().flatMap { checked.modules[$0] ?? [] } + checked.includes
            return checks
        }
        // Each refused module holds all its findings; an include file's are
        // said in the first one's output only.
        var said = Set<Finding>()
        for name in names.sorted() where !checked.findings(name).isEmpty {
            let findings = checked.findings(name)
            let lines = findings.filter { said.insert($0).inserted }.map { $0.diagnostic(.error, root: project.root) + "\n" }.joined()
            failures.append(CompileFailure(module: name, status: 1, output: lines, findings: findings))
        }
        let refused = Set(failures.map(\.module))
        jobs.removeAll { refused.contains($0.0.module) }
        results.removeAll { refused.contains($0.module) }
        return checks
    }
}

extension CheckSettings {
    /// Whether an entry of `allow` covers the finding; `modules` is the
    /// project's modules folder.
    public func allows(_ finding: Finding, modules: String) -> Bool {
        allow.contains { $0.covers(finding, modules: modules) }
    }
}

extension AllowEntry {
    /// Whether this entry covers a finding, whose file is project-relative.
    func covers(_ finding: Finding, modules: String) -> Bool {
        guard finding.file == modules + "/" + path || finding.file == path else { return false }
        switch scope {
        case .file: return true
        case .line(let line): return finding.line == line
        case .name(let name): return finding.declarations.contains(name)
        }
    }
}
