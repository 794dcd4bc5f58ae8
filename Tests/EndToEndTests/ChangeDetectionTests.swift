import Foundation
import HotBuild
import Testing

/// `hot changed` and `hot build` against real repositories made with the
/// libgit2 layer (never the `git` command), through the real `hot` binary.
@Suite("Change detection", .serialized)
struct ChangeDetectionTests {
    @Test("a modified file marks its module only, and only that module is rebuilt")
    func modifiedFile() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"])
        let first = try repo.build()
        #expect(first.modules == [.init("a", "built", 1), .init("b", "built", 1)])
        #expect(first.commit == repo.head && first.dirty == false)
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: []))
        let bArtifact = repo.path(".hot/build/b/" + (first.files["b"] ?? "?"))
        let bDate = try FileManager.default.attributesOfItem(atPath: bArtifact)[.modificationDate] as? Date

        try repo.write("modules/a/a.swift", moduleSource("a", 2))
        let expected = [ChangedReport.Module.modified("a", ["modules/a/a.swift"])]
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: expected))
        #expect(try repo.changed(since: "HEAD") == ChangedReport(since: "HEAD", commit: repo.head, modules: expected))

        let second = try repo.build()
        #expect(second.modules == [.init("a", "built", 2), .init("b", "cached", 1)])
        #expect(second.keys["b"] == first.keys["b"] && second.keys["a"] != first.keys["a"])
        #expect(try FileManager.default.attributesOfItem(atPath: bArtifact)[.modificationDate] as? Date == bDate)
        #expect(try repo.changed().modules == [])
    }

    @Test("an untracked .swift file marks its module; other files do not count")
    func untrackedFile() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"])
        #expect(try repo.build().modules == [.init("a", "built", 1), .init("b", "built", 1)])
        try repo.write("modules/a/notes.txt", "not a source\n")
        #expect(try repo.changed().modules == [])
        #expect(try repo.changed(since: "HEAD").modules == [])

        try repo.write("modules/a/extra.swift", "func extra() -> Int { 1 }\n")
        try repo.write("modules/b/deep/inner.swift", "func inner() -> Int { 2 }\n")
        let expected: [ChangedReport.Module] = [
            .modified("a", ["modules/a/extra.swift"]), .modified("b", ["modules/b/deep/inner.swift"]),
        ]
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: expected))
        #expect(try repo.changed(since: "HEAD").modules == expected)
    }

    @Test("a deleted file marks its module; a deleted module folder is deleted, and built as deleted once")
    func deletions() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"], extraFiles: ["modules/a/helper.swift": "func helper() -> Int { 1 }\n"])
        #expect(try repo.build().modules == [.init("a", "built", 1), .init("b", "built", 1)])

        try FileManager.default.removeItem(atPath: repo.path("modules/a/helper.swift"))
        #expect(try repo.changed().modules == [.modified("a", ["modules/a/helper.swift"])])
        try FileManager.default.removeItem(atPath: repo.path("modules/b"))
        let expected: [ChangedReport.Module] = [.modified("a", ["modules/a/helper.swift"]), .deleted("b", ["modules/b/b.swift"])]
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: expected))
        #expect(try repo.changed(since: "HEAD").modules == expected)

        #expect(try repo.build().modules == [.init("a", "built", 2), .init("b", "deleted", 1)])
        #expect(try repo.build().modules == [.init("a", "cached", 2)], "a deleted module is reported once")
        #expect(try repo.changed().modules == [])
        #expect(try repo.changed(since: "HEAD").modules == expected, "against HEAD, b stays deleted")
    }

    @Test("a renamed module folder is renamed, from its old name")
    func renamedModule() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"])
        #expect(try repo.build().modules.count == 2)
        try FileManager.default.moveItem(atPath: repo.path("modules/b"), toPath: repo.path("modules/c"))
        let expected = [ChangedReport.Module(name: "c", status: "renamed", from: "b", files: ["modules/b/b.swift", "modules/c/b.swift"])]
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: expected))
        #expect(try repo.changed(since: "HEAD").modules == expected)
    }

    @Test("an ignored .swift file inside a module changes nothing and builds nothing")
    func ignoredFile() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a"])
        try repo.write(".gitignore", ".hot/\n*.gen.swift\n")
        let head = try repo.commit("ignore generated sources")
        let built = try repo.build()
        #expect(built.modules == [.init("a", "built", 1)])

        try repo.write("modules/a/cache.gen.swift", "let generated = 1\n")
        #expect(try repo.changed() == ChangedReport(since: nil, commit: head.description, modules: []))
        #expect(try repo.changed(since: "HEAD").modules == [])
        let again = try repo.build()
        #expect(again.modules == [.init("a", "cached", 1)], "an ignored file must not trigger a rebuild")
        #expect(again.keys == built.keys)
    }

    @Test("a change in an include folder marks every module")
    func includeFolder() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"], include: ["shared"],
                                extraFiles: ["shared/text.swift": "func sharedText() -> String { \"one\" }\n"])
        #expect(try repo.build().modules == [.init("a", "built", 1), .init("b", "built", 1)])
        #expect(try repo.changed().modules == [])

        try repo.write("shared/text.swift", "func sharedText() -> String { \"two\" }\n")
        let expected: [ChangedReport.Module] = [.modified("a", ["shared/text.swift"]), .modified("b", ["shared/text.swift"])]
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: expected))
        #expect(try repo.changed(since: "HEAD").modules == expected)
        #expect(try repo.build().modules == [.init("a", "built", 2), .init("b", "built", 2)])
    }

    @Test("the files of an include folder are compiled into every module")
    func includeFolderIsCompiled() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let usesShared = """
            import Hot

            let module = HotModule(exports: [.function("text", { () -> String in sharedText() })])

            """
        let repo = try TestRepo(scratch, modules: ["a"], include: ["shared"], extraFiles: [
            "shared/text.swift": "func sharedText() -> String { \"shared\" }\n", "modules/a/a.swift": usesShared,
        ])
        let outcome = try repo.hot(["build", "--json"])
        #expect(outcome.status == 0, "hot.json's include folders must be compiled with the module: \(outcome)")
    }

    @Test("--since takes HEAD~1, full and short ids, tags and branches; switching back rebuilds nothing")
    func sinceRevisionsAndBranches() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"])
        let first = try #require(try repo.repository.headCommit())
        try repo.repository.createTag("start", at: first)
        try repo.repository.createTag("start-annotated", at: first, message: "the start")
        try repo.repository.setReference("refs/remotes/origin/main", to: first)
        try repo.write("modules/a/a.swift", moduleSource("a", 2))
        let second = try repo.commit("a 2")

        let aChanged = [ChangedReport.Module.modified("a", ["modules/a/a.swift"])]
        for revision in ["HEAD~1", first.description, first.short, "start", "start-annotated", "origin/main"] {
            let report = try repo.changed(since: revision)
            #expect(report == ChangedReport(since: revision, commit: second.description, modules: aChanged), "--since \(revision)")
        }
        #expect(try repo.changed(since: "HEAD").modules == [])
        #expect(try repo.changed(since: second.description).modules == [])

        let onMain = try repo.build()
        #expect(onMain.modules == [.init("a", "built", 1), .init("b", "built", 1)])

        try repo.repository.createBranch("feature", at: second)
        try repo.repository.checkout(branch: "feature")
        try repo.write("modules/b/b.swift", moduleSource("b", 2))
        let third = try repo.commit("b 2")
        let bChanged = [ChangedReport.Module.modified("b", ["modules/b/b.swift"])]
        #expect(try repo.changed(since: "main") == ChangedReport(since: "main", commit: third.description, modules: bChanged))
        #expect(try repo.changed().modules == bChanged)
        let onFeature = try repo.build()
        #expect(onFeature.modules == [.init("a", "cached", 1), .init("b", "built", 2)])
        #expect(onFeature.commit == third.description)

        try repo.repository.checkout(branch: "main")
        #expect(try repo.changed(since: "feature") == ChangedReport(since: "feature", commit: second.description, modules: bChanged))
        #expect(try repo.changed().modules == bChanged, "b's current build is feature's")
        let back = try repo.build()
        #expect(back.modules == [.init("a", "cached", 1), .init("b", "cached", 1)], "main's sources were built before")
        #expect(back.keys == onMain.keys && back.files == onMain.files)
        #expect(try repo.changed().modules == [])
        #expect(repo.artifacts().sorted() == (Array(onMain.files.values) + [onFeature.files["b"] ?? "?"]).sorted())
    }

    @Test("with many module folders the diff is split among threads, and finds every kind of change in every share")
    func manyModules() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        // 80 folders: more than ChangeDetector.foldersPerThread for two threads.
        let names = (0..<80).map { String(format: "m%02d", $0) }
        let repo = try TestRepo(scratch, modules: names, include: ["shared"],
                                extraFiles: ["shared/common.swift": "func common() -> Int { 1 }\n"])
        try repo.write("modules/m00/m00.swift", moduleSource("m00", 2))
        try repo.write("modules/m41/extra.swift", "func extra() -> Int { 2 }\n")
        try FileManager.default.removeItem(atPath: repo.path("modules/m79/m79.swift"))
        try FileManager.default.removeItem(atPath: repo.path("modules/m40"))
        try FileManager.default.moveItem(atPath: repo.path("modules/m20"), toPath: repo.path("modules/zz"))
        try repo.write("modules/new/new.swift", moduleSource("new", 1))
        try repo.write("modules/m60/notes.txt", "not a source\n")
        let expected: [ChangedReport.Module] = [
            .deleted("m40", ["modules/m40/m40.swift"]),
            .deleted("m79", ["modules/m79/m79.swift"]),  // no Swift file left: no longer a module
            .modified("m00", ["modules/m00/m00.swift"]),
            .modified("m41", ["modules/m41/extra.swift"]),
            .added("new", ["modules/new/new.swift"]),
            .init(name: "zz", status: "renamed", from: "m20", files: ["modules/m20/m20.swift", "modules/zz/m20.swift"]),
        ].sorted { $0.name < $1.name }
        let report = try repo.changed(since: "HEAD")
        #expect(report.modules == expected)

        // An include folder's change reaches every module, whichever thread saw it.
        try repo.write("shared/common.swift", "func common() -> Int { 2 }\n")
        let withInclude = try repo.changed(since: "HEAD").modules
        let modified = withInclude.filter { $0.status == "modified" }
        #expect(modified.count == 77, "every module still there, but the renamed and the new one")
        #expect(modified.allSatisfy { $0.files.contains("shared/common.swift") })
        #expect(withInclude.count == 77 + 4)
    }

    @Test("a detached HEAD works for changed and build")
    func detachedHead() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a"])
        let first = try #require(try repo.repository.headCommit())
        try repo.write("modules/a/a.swift", moduleSource("a", 2))
        try repo.commit("a 2")
        try repo.repository.checkout(detachedAt: first)
        #expect(repo.repository.isHeadDetached)

        let aChanged = [ChangedReport.Module.modified("a", ["modules/a/a.swift"])]
        #expect(try repo.changed(since: "main") == ChangedReport(since: "main", commit: first.description, modules: aChanged))
        #expect(try repo.changed(since: "HEAD").modules == [])
        let built = try repo.build()
        #expect(built.modules == [.init("a", "built", 1)])
        #expect(built.commit == first.description && built.dirty == false)
        #expect(try repo.changed() == ChangedReport(since: nil, commit: first.description, modules: []))
    }

    @Test("a project in a subfolder of the repository: paths are project-relative")
    func projectInSubfolder() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"], repositoryFolder: "repo", projectFolder: "repo/sub/app", outside: [
            "README.md": "top\n", "sub/app2/modules/a/a.swift": moduleSource("x", 1), "modules/a/a.swift": moduleSource("y", 1),
        ])
        let added: [ChangedReport.Module] = [.added("a", ["modules/a/a.swift"]), .added("b", ["modules/b/b.swift"])]
        #expect(try repo.changed(in: "modules/a") == ChangedReport(since: nil, commit: repo.head, modules: added))
        #expect(try repo.build().modules == [.init("a", "built", 1), .init("b", "built", 1)])
        #expect(try repo.changed().modules == [])

        try repo.write("modules/a/a.swift", moduleSource("a", 2))
        for (path, text) in ["README.md": "changed\n", "sub/app2/modules/a/a.swift": moduleSource("x", 2), "modules/a/a.swift": moduleSource("y", 2)] {
            try text.write(toFile: scratch.path("repo/" + path), atomically: true, encoding: .utf8)
        }
        let expected = [ChangedReport.Module.modified("a", ["modules/a/a.swift"])]
        #expect(try repo.changed() == ChangedReport(since: nil, commit: repo.head, modules: expected))
        #expect(try repo.changed(since: "HEAD", in: "modules") == ChangedReport(since: "HEAD", commit: repo.head, modules: expected))
        #expect(try repo.build(["--since", "HEAD"]).modules == [.init("a", "built", 2)])

        let manifest = try #require(try parseJSON(repo.read(".hot/manifest.json")) as? [String: Any])
        let versions = try #require(manifest["versions"] as? [[String: Any]])
        let paths = versions.flatMap { ($0["files"] as? [String: Any] ?? [:]).keys }.sorted()
        #expect(paths == ["modules/a/a.swift", "modules/a/a.swift", "modules/b/b.swift"])
    }

    @Test("a folder under modules/ with no .swift file is no module, in the work tree nor in REV")
    func folderWithoutSwiftFile() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a", "b"], extraFiles: [
            "modules/csrc/lib.c": "int one(void) { return 1; }\n", "modules/csrc/include/lib.h": "int one(void);\n",
            "modules/docs/README.md": "the modules\n", "modules/docs/.template.swift": "// hidden: not a source\n",
            "modules/fixtures/data/sample.json": "{}\n", "modules/fixtures/.cache/x.swift": "// hidden folder\n",
            "modules/later/notes.txt": "a module to come\n", "modules/b/README.md": "b\n",
        ])
        #expect(try repo.changed(since: "HEAD").modules == [])
        #expect(try repo.build(["--since", "HEAD"]).modules == [])

        // Changed non-sources in those folders change nothing either.
        try repo.write("modules/csrc/lib.c", "int one(void) { return 2; }\n")
        try repo.write("modules/docs/README.md", "the modules, again\n")
        #expect(try repo.changed(since: "HEAD").modules == [])
        #expect(try repo.build(["--since", "HEAD"]).modules == [])

        // A folder that gains its first source is added, not modified; one that
        // loses its last is deleted; a moved module with a README is renamed.
        try repo.write("modules/later/later.swift", moduleSource("later", 1))
        try FileManager.default.removeItem(atPath: repo.path("modules/a/a.swift"))
        try FileManager.default.moveItem(atPath: repo.path("modules/b"), toPath: repo.path("modules/c"))
        let expected: [ChangedReport.Module] = [
            .deleted("a", ["modules/a/a.swift"]),
            .init(name: "c", status: "renamed", from: "b", files: ["modules/b/b.swift", "modules/c/b.swift"]),
            .added("later", ["modules/later/later.swift"]),
        ]
        #expect(try repo.changed(since: "HEAD").modules == expected)
    }

    enum Failure: String, CaseIterable, Sendable {
        case noCommit, notARepository, unknownRevision, unparsableConfig, invalidModuleName, versionedModuleName, noModules
    }

    @Test("errors: exit 1 and one stderr line that says what to do", arguments: Failure.allCases)
    func errors(_ failure: Failure) throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let outcome: Outcome
        let phrases: [String]
        switch failure {
        case .noCommit:
            _ = try Repository.create(at: scratch.path("app"), initialBranch: "main")
            try writeProject(scratch, folder: "app", modules: ["a"])
            outcome = try scratch.hot(["changed", "--since", "HEAD"])
            phrases = ["no commits", "commit your files first"]
        case .notARepository:
            try writeProject(scratch, folder: "app", modules: ["a"])
            outcome = try scratch.hot(["build"])
            phrases = ["not inside a git repository", "hot init"]
        case .unknownRevision:
            let repo = try TestRepo(scratch, modules: ["a"])
            outcome = try repo.hot(["changed", "--since", "no-such-branch"])
            phrases = ["unknown revision 'no-such-branch'", "check the branch, tag or commit id"]
        case .unparsableConfig:
            let repo = try TestRepo(scratch, modules: ["a"])
            try repo.write("hot.json", "{\n  \"name\": \"app\",\n  \"modules\": \"modules\"\n  \"include\": []\n}\n")
            outcome = try repo.hot(["changed"])
            phrases = ["hot.json", "line 4", "fix the file"]
        case .invalidModuleName:
            let repo = try TestRepo(scratch, modules: ["a"])
            try repo.write("modules/Bad-Name/bad.swift", moduleSource("bad", 1))
            outcome = try repo.hot(["build"])
            phrases = ["'Bad-Name'", "use lowercase letters"]
        case .versionedModuleName:
            let repo = try TestRepo(scratch, modules: ["a"])
            try repo.write("modules/a_v2/a.swift", moduleSource("a_v2", 1))
            outcome = try repo.hot(["build"])
            phrases = ["'a_v2'", "ends in _v and a number", "rename it"]
        case .noModules:
            let repo = try TestRepo(scratch, modules: [])
            outcome = try repo.hot(["build"])
            phrases = ["no modules in modules", "add a folder with .swift files"]
        }
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.isEmpty, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("hot: ") && outcome.stderr.hasSuffix("\n"), "\(outcome)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome)")
        for phrase in phrases { #expect(outcome.stderr.contains(phrase), "'\(phrase)' missing: \(outcome)") }
    }
}
