#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// The commands swiftc runs for a `CompileJob` (frontend, autolink
/// extraction, link), learnt from the driver itself and kept as a template,
/// so that a build runs them directly and skips the driver's own start-up,
/// about half of a small module's build (docs/ARCHITECTURE.md, "Direct build").
///
/// Derived from `swiftc -###` with the job's real arguments, and the link from
/// `clang -###` of the driver's link line, so the linker runs without clang in
/// between. Nothing in it is written by hand: an argument the derivation does
/// not account for makes the plan unusable, and the build uses the driver.
public struct DriverPlan: Sendable, Equatable {
    /// The frontend's command line, argv[0] first, with placeholders.
    public let frontend: [String]
    /// swift-autolink-extract's, which writes the libraries the object asks for.
    public let autolink: [String]
    /// clang's link line, as the driver printed it (it reads the autolink list as `@file`).
    public let clangLink: [String]
    /// The linker's line clang would run, with the autolink entries' place marked.
    public let link: [String]
    /// The sources (by index) the driver's supplementary output map names,
    /// each with no output of its own; empty when the driver passes no map.
    public let supplementary: [Int]
    /// Values of the job the plan was derived from that no instantiation for
    /// another job may keep (the module name and the driver's temporary folder).
    let originals: [String]

    /// Why a plan could not be derived.
    public struct Unusable: Error, Sendable, CustomStringConvertible {
        /// What went wrong, for a person.
        public let reason: String
        init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    static let sources = "\u{1}sources\u{1}"
    static let moduleName = "\u{1}module\u{1}"
    static let object = "\u{1}object\u{1}"
    static let autolinkList = "\u{1}autolink\u{1}"
    static let output = "\u{1}output\u{1}"
    static let entries = "\u{1}entries\u{1}"
    static let outputMap = "\u{1}outputs\u{1}"
    /// What the derivation writes in the autolink list it hands to `clang -###`,
    /// to find where clang puts the list's entries in the linker's line.
    static let entryProbe = "-lhot-autolink-entry-probe"

    /// The steps for one job: frontend, autolink, and link, argv[0] first.
    /// `entries` are the lines of the autolink list the second step wrote.
    public struct Steps: Sendable, Equatable {
        /// The frontend, which writes the object.
        public let frontend: [String]
        /// swift-autolink-extract, which writes the autolink list from the object.
        public let autolink: [String]
        /// The object and the autolink list the steps write before the
        /// artifact, then the files to write before the frontend; all removed
        /// with the temporary output.
        public let intermediates: [String]
        /// Files the frontend reads, by path, to be written before it runs.
        public let inputs: [String: [UInt8]]
        let job: CompileJob
        let plan: DriverPlan

        /// The link: the linker with `entries` in the autolink list's place
        /// when each is a plain `-lNAME` (which clang passes through as is, as
        /// the derivation saw); else clang's own line, which reads the list.
        public func link(entries: [String]) -> [String] {
            let plain = entries.allSatisfy { entry in
                entry.hasPrefix("-l") && entry.count > 2
                    && !entry.contains { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" || $0 == "\\" }
            }
            guard plain else { return plan.fill(plan.clangLink, job: job) }
            return plan.fill(plan.link, job: job).flatMap { $0 == DriverPlan.entries ? entries : [$0] }
        }
    }

    /// The steps for `job`, or nil when an original value would survive in
    /// them (a value the template did not replace everywhere).
    public func steps(for job: CompileJob) -> Steps? {
        let sources = job.sources + [job.entryFile]
        guard supplementary.allSatisfy({ $0 < sources.count }) else { return nil }
        let map = Term.map(Dictionary(uniqueKeysWithValues: supplementary.map { (sources[$0], Term.map([:])) }))
        let steps = Steps(
            frontend: fill(frontend, job: job), autolink: fill(autolink, job: job),
            intermediates: [Self.objectPath(job), Self.autolinkPath(job)] + (supplementary.isEmpty ? [] : [Self.mapPath(job)]),
            inputs: supplementary.isEmpty ? [:] : [Self.mapPath(job): Array(JSON.render(map).utf8)], job: job, plan: self)
        let all = steps.frontend + steps.autolink + fill(clangLink, job: job) + fill(link, job: job)
        let moduleName = job.moduleNameValue
        for value in originals where value != moduleName && value != job.temporaryOutput {
            if all.contains(where: { $0 == value || (value.hasPrefix("/") && $0.contains(value)) }) { return nil }
        }
        return steps
    }

    static func objectPath(_ job: CompileJob) -> String { job.temporaryOutput + ".o" }
    static func autolinkPath(_ job: CompileJob) -> String { job.temporaryOutput + ".autolink" }
    static func mapPath(_ job: CompileJob) -> String { job.temporaryOutput + ".outputs.json" }

    func fill(_ template: [String], job: CompileJob) -> [String] {
        Self.fill(
            template, sources: job.sources + [job.entryFile], moduleName: job.moduleNameValue,
            object: Self.objectPath(job), autolink: Self.autolinkPath(job), output: job.temporaryOutput,
            map: Self.mapPath(job))
    }

    static func fill(
        _ template: [String], sources: [String], moduleName: String, object: String, autolink: String, output: String,
        map: String
    ) -> [String] {
        template.flatMap { argument -> [String] in
            switch argument {
            case Self.sources: return sources
            case Self.moduleName: return [moduleName]
            case Self.outputMap: return [map]
            default:
                guard argument.contains("\u{1}") else { return [argument] }
                return [
                    argument.replacing(Self.object, with: object).replacing(Self.autolinkList, with: autolink)
                        .replacing(Self.output, with: output)
                ]
            }
        }
    }
}

extension CompileJob {
    /// The value of `-module-name` in `arguments`.
    var moduleNameValue: String {
        arguments.firstIndex(of: "-module-name").map { arguments[$0 + 1] } ?? module
    }

    /// `arguments` without what differs between two builds under the same
    /// flags: the sources, the module name's value and the output. What is
    /// left, with the compiler's stamp, keys a `DriverPlan`.
    var planKeyArguments: [String] {
        let varying = Set(sources + [entryFile, temporaryOutput, moduleNameValue])
        return arguments.filter { !varying.contains($0) }
    }
}
