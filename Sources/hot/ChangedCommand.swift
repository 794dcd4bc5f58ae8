import Hot
import HotBuild
import HotPlatform

/// `hot changed`.
let changedCommand = Command(
    name: "changed", summary: "list the modules whose sources changed, and the files behind each",
    usage: "changed [--since REV] [--json]",
    details: """
        Without --since, compares each module with its newest build; with --since REV, with the
        tree of REV (a branch, tag, remote branch, HEAD~N or commit id). Untracked files count,
        ignored files never do, and a change in an include folder marks every module.
        """,
    options: [.changedSince, .json],
    arguments: 0...0
) { (args) throws(CommandError) in
    let project = try currentProject()
    let report: ChangeReport
    do throws(BuildError) { report = try ChangeDetector(project: project).changes(since: args.value(.changedSince)) } catch {
        throw .failed(error.description)
    }
    if args.has(.json) {
        printJSON([
            "since": report.since.map { .string($0) } ?? .null, "commit": report.commit.map { .string($0) } ?? .null,
            "modules": .list(report.modules.map { change in
                [
                    "name": .string(change.name), "status": .string(change.kind.rawValue),
                    "from": change.from.map { .string($0) } ?? .null, "files": .list(change.files.map { .string($0) }),
                ]
            }),
        ])
        return
    }
    if report.modules.isEmpty {
        print(report.since.map { "no module differs from \($0)" } ?? "no module changed since its last build")
    }
    for change in report.modules {
        let from = change.from.map { " (from \($0))" } ?? ""
        print("\(change.kind.rawValue.padding(9)) \(change.name)\(from)")
        for file in change.files { print("    \(file)") }
    }
}

extension Option {
    static let changedSince = Option("--since", .value, valueName: "REV", help: "compare with this revision instead of the newest builds")
}
