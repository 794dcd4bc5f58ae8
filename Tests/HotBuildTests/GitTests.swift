import HotPlatform
import Testing
@testable import HotBuild
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Every test builds its repositories with the Swift API only, in a scratch
// folder it removes on the way out, so the suite runs where git is absent.

@Suite("Git")
struct GitTests {
    // MARK: Object ids and hashing

    @Test func hashMatchesGitHashObject() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        // `printf 'hello\n' | git hash-object --stdin` and the empty blob.
        #expect(Repository.hashBlob(Array("hello\n".utf8)).description == "ce013625030ba8dba906f756967f9e9ca394464a")
        #expect(Repository.hashBlob([]).description == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
        try dir.write("hello.txt", "hello\n")
        #expect(try Repository.hashFile(at: dir.path + "/hello.txt").description == "ce013625030ba8dba906f756967f9e9ca394464a")
        // A symlink hashes as its target text, as git stores it.
        try dir.link("hello.txt", at: "link")
        #expect(try Repository.hashFile(at: dir.path + "/link") == Repository.hashBlob(Array("hello.txt".utf8)))
        #expect(throws: GitError.self) { try Repository.hashFile(at: dir.path + "/missing") }
    }

    @Test func objectIDParsesAndPrints() {
        let hex = "ce013625030ba8dba906f756967f9e9ca394464a"
        let id = ObjectID(hex: hex)
        #expect(id?.description == hex)
        #expect(ObjectID(hex: hex.uppercased()) == id)
        #expect(id?.short == "ce01362")
        #expect(id?.bytes.count == 20)
        #expect(id.flatMap { ObjectID(bytes: $0.bytes) } == id)
        #expect(ObjectID(hex: "ce01362") == nil)
        #expect(ObjectID(hex: String(repeating: "g", count: 40)) == nil)
        #expect(ObjectID(bytes: [1, 2, 3]) == nil)
        let low = ObjectID(hex: "00" + String(repeating: "f", count: 38))!
        let high = ObjectID(hex: "01" + String(repeating: "0", count: 38))!
        #expect(low < high)
        #expect(Set([low, high, low]).count == 2)
    }

    // MARK: Creating, committing, discovering

    @Test func createAddAllCommit() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path + "/project", initialBranch: "main")
        #expect(repo.workdir == dir.path + "/project")
        #expect(repo.gitDir == dir.path + "/project/.git")
        #expect(repo.isHeadUnborn)
        #expect(repo.headName == "main")
        #expect(try repo.headCommit() == nil)

        try dir.write("project/Package.swift", "// swift-tools-version:6.0\n")
        try dir.write("project/Sources/App/main.swift", "print(1)\n")
        try repo.addAll()
        let first = try repo.commit(message: "first")
        #expect(!repo.isHeadUnborn)
        #expect(try repo.headCommit() == first)
        #expect(try repo.status().isEmpty)

        let read = try repo.commit(first)
        #expect(read.id == first)
        #expect(read.parents.isEmpty)
        #expect(read.summary == "first")
        #expect(read.message == "first\n")
        #expect(!read.author.name.isEmpty)

        try dir.write("project/Sources/App/main.swift", "print(2) // changed\n")
        try dir.delete("project/Package.swift")
        try repo.addAll()
        let author = Signature(name: "Ada", email: "ada@example.com", time: 1_700_000_000, offsetMinutes: 60)
        let second = try repo.commit(message: "second\n\nwith a body", author: author)
        let secondCommit = try repo.commit(second)
        #expect(secondCommit.parents == [first])
        #expect(secondCommit.summary == "second")
        #expect(secondCommit.message == "second\n\nwith a body\n")
        #expect(secondCommit.author == author)
        #expect(secondCommit.time == 1_700_000_000)
        // addAll staged the deletion too.
        #expect(try repo.treeEntries(of: second).map(\.path) == ["Sources/App/main.swift"])
        #expect(try repo.status().isEmpty)
        #expect(repo.headName == "main")
    }

    @Test func discoverFromSubfolder() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let created = try Repository.create(at: dir.path)
        try dir.write("a/b/c/file.txt", "x\n")
        let found = try Repository.discover(from: dir.path + "/a/b/c")
        #expect(found.workdir == created.workdir)
        #expect(found.gitDir == created.gitDir)
        #expect(try Repository.open(at: dir.path).workdir == dir.path)
        // open does not search upward.
        #expect(throws: GitError.notARepository(path: dir.path + "/a/b")) {
            try Repository.open(at: dir.path + "/a/b")
        }
    }

    @Test func notARepository() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        try dir.makeDirectory("plain/sub")
        let error = #expect(throws: GitError.self) { try Repository.discover(from: dir.path + "/plain/sub") }
        #expect(error == .notARepository(path: dir.path + "/plain/sub"))
        #expect(error?.description.contains("hot init") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func unbornHead() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path, initialBranch: "trunk")
        #expect(repo.isHeadUnborn)
        #expect(!repo.isHeadDetached)
        #expect(repo.headName == "trunk")
        #expect(try repo.headCommit() == nil)
        #expect(throws: GitError.noCommits) { try repo.resolve("HEAD") }
        #expect(throws: GitError.noCommits) { try repo.resolve("HEAD~1") }
        #expect(throws: GitError.unknownRevision("trunk")) { try repo.resolve("trunk") }
        try dir.write("new.txt", "new\n")
        let status = try repo.status()
        #expect(status.map(\.path) == ["new.txt"])
        #expect(status.first?.isUntracked == true)
    }

    // MARK: Revisions

    @Test func resolveEachRevisionForm() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path, initialBranch: "main")
        var commits: [ObjectID] = []
        for i in 0..<4 {
            try dir.write("file.txt", "version \(i)\n")
            try repo.addAll()
            commits.append(try repo.commit(message: "commit \(i)"))
        }
        try repo.createBranch("feature", at: commits[1])
        try repo.createTag("v1", at: commits[2])
        try repo.createTag("v2", at: commits[3], message: "release two")
        try repo.setReference("refs/remotes/origin/main", to: commits[0])

        #expect(try repo.resolve("HEAD") == commits[3])
        #expect(try repo.resolve("HEAD~3") == commits[0])
        #expect(try repo.resolve("HEAD^") == commits[2])
        #expect(try repo.resolve("main") == commits[3])
        #expect(try repo.resolve("feature") == commits[1])
        #expect(try repo.resolve("v1") == commits[2])
        #expect(try repo.resolve("v2") == commits[3])  // annotated, peeled to its commit
        #expect(try repo.resolve("origin/main") == commits[0])
        #expect(try repo.resolve(commits[2].description) == commits[2])
        #expect(try repo.resolve(String(commits[1].description.prefix(10))) == commits[1])

        #expect(throws: GitError.unknownRevision("nope")) { try repo.resolve("nope") }
        #expect(throws: GitError.unknownRevision("HEAD~9")) { try repo.resolve("HEAD~9") }
        #expect(throws: GitError.notACommit("HEAD:file.txt")) { try repo.resolve("HEAD:file.txt") }
        #expect(throws: GitError.alreadyExists("feature")) { try repo.createBranch("feature", at: commits[0]) }
        #expect(throws: GitError.alreadyExists("v1")) { try repo.createTag("v1", at: commits[0]) }
        let missing = ObjectID(hex: String(repeating: "a", count: 40))!
        #expect(throws: GitError.unknownRevision(missing.description)) { try repo.commit(missing) }
    }

    // MARK: Status and ignores

    @Test func statusSeesModifiedUntrackedDeletedNotIgnored() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path)
        try dir.write(".gitignore", "*.log\n.build/\n")
        try dir.write("kept.txt", "kept\n")
        try dir.write("edited.txt", "before\n")
        try dir.write("gone.txt", "gone\n")
        try repo.addAll()
        try repo.commit(message: "base")

        try dir.write("edited.txt", "after, and longer\n")
        try dir.delete("gone.txt")
        try dir.write("fresh/deep/new.swift", "let x = 1\n")
        try dir.write("debug.log", "noise\n")
        try dir.write(".build/out.o", "binary\n")

        let status = try repo.status()
        #expect(status.map(\.path) == ["edited.txt", "fresh/deep/new.swift", "gone.txt"])
        #expect(status.map(\.description) == [" M edited.txt", "?? fresh/deep/new.swift", " D gone.txt"])
        #expect(status[0].flags == .workdirModified)
        #expect(status[1].isUntracked)
        #expect(status[2].flags == .workdirDeleted)
        #expect(try repo.status(includeUntracked: false).map(\.path) == ["edited.txt", "gone.txt"])
        #expect(try repo.status(under: "fresh").map(\.path) == ["fresh/deep/new.swift"])

        #expect(try repo.isIgnored(path: "debug.log"))
        #expect(try repo.isIgnored(path: ".build/out.o"))
        #expect(try repo.isIgnored(path: dir.path + "/debug.log"))
        #expect(try !repo.isIgnored(path: "edited.txt"))
        #expect(try !repo.isIgnored(path: "fresh/deep/new.swift"))

        // Staged changes show in the index column.
        try repo.addAll()
        let staged = try repo.status()
        #expect(staged.map(\.description) == ["M  edited.txt", "A  fresh/deep/new.swift", "D  gone.txt"])
        #expect(staged.allSatisfy { !$0.flags.isDisjoint(with: .inIndex) && $0.flags.isDisjoint(with: .inWorkdir) })
    }

    // MARK: Diff

    @Test func diffAgainstOlderCommit() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path)
        try dir.write(".gitignore", "*.log\n")
        try dir.write("Sources/Foo/a.swift", "a\n")
        try dir.write("Sources/Foo/b.swift", "b\n")
        try dir.write("Sources/Foobar/c.swift", "c\n")
        try repo.addAll()
        let old = try repo.commit(message: "old")

        try dir.write("Sources/Foo/a.swift", "a changed\n")
        try repo.addAll()
        try repo.commit(message: "newer")

        // Committed, staged, unstaged and untracked changes all count.
        try dir.write("Sources/Foobar/c.swift", "c changed\n")
        try dir.delete("Sources/Foo/b.swift")
        try dir.write("Sources/Foo/New/d.swift", "d\n")
        try dir.write("Sources/Foo/trace.log", "ignored\n")

        let changes = try repo.diff(from: old)
        #expect(changes == [
            Change(kind: .added, oldPath: "Sources/Foo/New/d.swift", newPath: "Sources/Foo/New/d.swift"),
            Change(kind: .modified, oldPath: "Sources/Foo/a.swift", newPath: "Sources/Foo/a.swift"),
            Change(kind: .deleted, oldPath: "Sources/Foo/b.swift", newPath: "Sources/Foo/b.swift"),
            Change(kind: .modified, oldPath: "Sources/Foobar/c.swift", newPath: "Sources/Foobar/c.swift"),
        ])
        // A prefix is a directory, not a string prefix: Sources/Foobar stays out.
        #expect(try repo.diff(from: old, toWorkdirUnder: "Sources/Foo").map(\.newPath)
            == ["Sources/Foo/New/d.swift", "Sources/Foo/a.swift", "Sources/Foo/b.swift"])
        #expect(try repo.diff(from: old, toWorkdirUnder: "Sources/Foobar/").map(\.newPath) == ["Sources/Foobar/c.swift"])
        #expect(try repo.diff(from: old, toWorkdirUnder: "Elsewhere").isEmpty)
    }

    @Test func diffFindsRenamesOnRequest() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path)
        try dir.write("old/name.swift", String(repeating: "let line = 42\n", count: 20))
        try repo.addAll()
        let base = try repo.commit(message: "base")
        try dir.move("old/name.swift", to: "new/name.swift")

        #expect(try repo.diff(from: base).map(\.kind) == [.added, .deleted])
        #expect(try repo.diff(from: base, findRenames: true)
            == [Change(kind: .renamed, oldPath: "old/name.swift", newPath: "new/name.swift")])
    }

    @Test func diffAcrossBranches() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path, initialBranch: "main")
        try dir.write("shared.txt", "shared\n")
        try repo.addAll()
        let base = try repo.commit(message: "base")
        try repo.createBranch("feature", at: base)

        try dir.write("main-only.txt", "main\n")
        try dir.write("shared.txt", "shared, edited on main\n")
        try repo.addAll()
        try repo.commit(message: "main work")

        try repo.checkout(branch: "feature")
        #expect(repo.headName == "feature")
        #expect(try repo.headCommit() == base)
        #expect(!dir.exists("main-only.txt"))
        try dir.write("feature-only.txt", "feature\n")
        try repo.addAll()
        try repo.commit(message: "feature work")

        // From main's tree to feature's work tree.
        let changes = try repo.diff(from: try repo.resolve("main"))
        #expect(changes.map { "\($0.kind) \($0.newPath)" }
            == ["added feature-only.txt", "deleted main-only.txt", "modified shared.txt"])
    }

    // MARK: Trees

    @Test func treeEntriesListFilesWithModes() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path)
        try dir.write("Sources/Tool/run.sh", "#!/bin/sh\n")
        try dir.setMode("Sources/Tool/run.sh", 0o755)
        try dir.write("Sources/Tool/main.swift", "print(0)\n")
        try dir.write("Sources/Toolbox/x.swift", "x\n")
        try dir.write("README", "read me\n")
        try dir.link("README", at: "Sources/Tool/README")
        try repo.addAll()
        let commit = try repo.commit(message: "files")

        let all = try repo.treeEntries(of: commit)
        #expect(all.map(\.path) == ["README", "Sources/Tool/README", "Sources/Tool/main.swift",
                                    "Sources/Tool/run.sh", "Sources/Toolbox/x.swift"])
        let byPath = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
        #expect(byPath["README"]?.mode == .file)
        #expect(byPath["Sources/Tool/run.sh"]?.mode == .executable)
        #expect(byPath["Sources/Tool/README"]?.mode == .symlink)
        for entry in all {
            #expect(try Repository.hashFile(at: dir.path + "/" + entry.path) == entry.id)
        }
        #expect(try repo.treeEntries(of: commit, under: "Sources/Tool").map(\.path)
            == ["Sources/Tool/README", "Sources/Tool/main.swift", "Sources/Tool/run.sh"])
        #expect(try repo.treeEntries(of: commit, under: "./Sources/Tool/").count == 3)
        #expect(try repo.treeEntries(of: commit, under: "README").map(\.path) == ["README"])
        #expect(try repo.treeEntries(of: commit, under: "Missing").isEmpty)
        #expect(try repo.treeEntries(of: commit, under: "").count == 5)
    }

    // MARK: Branches and detached HEAD

    @Test func detachedHead() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path, initialBranch: "main")
        try dir.write("f.txt", "one\n")
        try repo.addAll()
        let one = try repo.commit(message: "one")
        try dir.write("f.txt", "two, longer\n")
        try repo.addAll()
        let two = try repo.commit(message: "two")

        try repo.checkout(detachedAt: one)
        #expect(repo.isHeadDetached)
        #expect(repo.headName == nil)
        #expect(try repo.headCommit() == one)
        #expect(try repo.resolve("HEAD") == one)
        #expect(try dir.read("f.txt") == "one\n")
        #expect(try repo.status().isEmpty)

        try repo.checkout(branch: "main")
        #expect(!repo.isHeadDetached)
        #expect(repo.headName == "main")
        #expect(try repo.headCommit() == two)
        #expect(try dir.read("f.txt") == "two, longer\n")
    }

    @Test func checkoutKeepsLocalChangesUnlessForced() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path, initialBranch: "main")
        try dir.write("f.txt", "base\n")
        try repo.addAll()
        let base = try repo.commit(message: "base")
        try repo.createBranch("other", at: base)
        try dir.write("f.txt", "main version\n")
        try repo.addAll()
        try repo.commit(message: "main")

        try dir.write("f.txt", "uncommitted edit\n")
        #expect(throws: GitError.checkoutConflict("other")) { try repo.checkout(branch: "other") }
        #expect(repo.headName == "main")
        #expect(try dir.read("f.txt") == "uncommitted edit\n")

        try repo.checkout(branch: "other", force: true)
        #expect(repo.headName == "other")
        #expect(try dir.read("f.txt") == "base\n")
        #expect(throws: GitError.unknownRevision("nope")) { try repo.checkout(branch: "nope") }
    }

    // MARK: Errors and sharing

    @Test func errorDescriptionsAreOneActionableLine() {
        let errors: [GitError] = [
            .call("git_index_write", code: -1, message: "failed to write\n"),
            .notARepository(path: "/x"), .bareRepository(path: "/x.git"), .noCommits,
            .unknownRevision("v9"), .notACommit("HEAD:f"), .alreadyExists("b"), .checkoutConflict("b"),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
        }
        #expect(GitError.notARepository(path: "/x").description
            == "not inside a git repository (searched upward from /x): run `git init` or `hot init`")
        #expect(GitError.last("git_x", code: -3).description.hasPrefix("git: git_x failed"))
    }

    @Test func defaultSignatureAlwaysHasAnIdentity() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path)
        // From the user's git config when set, else the fallback; never empty.
        let signature = try repo.defaultSignature()
        #expect(!signature.name.isEmpty)
        #expect(!signature.email.isEmpty)
        #expect(Signature.fallbackName == "hot" && Signature.fallbackEmail == "hot@localhost")
    }

    @Test func repositoryIsSharedAcrossTasks() async throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let repo = try Repository.create(at: dir.path)
        for i in 0..<10 { try dir.write("f\(i).txt", "\(i)\n") }
        try repo.addAll()
        let head = try repo.commit(message: "files")
        try dir.write("f0.txt", "changed\n")

        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<32 {
                group.addTask {
                    switch i % 3 {
                    case 0: return try repo.status().count
                    case 1: return try repo.diff(from: head).count
                    default: return try repo.treeEntries(of: head).count
                    }
                }
            }
            var seen: Set<Int> = []
            for try await count in group { seen.insert(count) }
            return seen
        }
        #expect(counts == [1, 10])
    }
}

// MARK: - Scratch folders

/// A temporary folder; each test removes it with `defer { dir.removeAll() }`
/// so it goes even when the test fails. Uses only libc: no git, no Foundation.
struct Scratch {
    let path: String

    init() throws {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/hot-git-test-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw ScratchError("mkdtemp failed in \(base)") }
        let made = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Resolve symlinks (e.g. /tmp on macOS) so paths compare with libgit2's.
        if let real = realpath(made, nil) {
            path = String(cString: real)
            free(real)
        } else {
            path = made
        }
    }

    /// Deletes the folder and everything in it.
    func removeAll() { removeTree(path) }

    func write(_ relative: String, _ text: String) throws {
        let full = path + "/" + relative
        if let slash = relative.lastIndex(of: "/") { try makeDirectory(String(relative[..<slash])) }
        guard let file = fopen(full, "w") else { throw ScratchError("cannot write \(full)") }
        defer { fclose(file) }
        let bytes = Array(text.utf8)
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw ScratchError("short write \(full)") }
    }

    func read(_ relative: String) throws -> String {
        guard let file = fopen(path + "/" + relative, "r") else { throw ScratchError("cannot read \(relative)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func makeDirectory(_ relative: String) throws {
        var current = path
        for part in relative.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw ScratchError("mkdir \(current)") }
        }
    }

    func delete(_ relative: String) throws {
        guard unlink(path + "/" + relative) == 0 else { throw ScratchError("unlink \(relative)") }
    }

    func move(_ from: String, to: String) throws {
        if let slash = to.lastIndex(of: "/") { try makeDirectory(String(to[..<slash])) }
        guard rename(path + "/" + from, path + "/" + to) == 0 else { throw ScratchError("rename \(from)") }
    }

    func link(_ target: String, at relative: String) throws {
        guard symlink(target, path + "/" + relative) == 0 else { throw ScratchError("symlink \(relative)") }
    }

    func setMode(_ relative: String, _ mode: mode_t) throws {
        guard chmod(path + "/" + relative, mode) == 0 else { throw ScratchError("chmod \(relative)") }
    }

    func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(path + "/" + relative, &info) == 0
    }
}

struct ScratchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `rm -rf` without a subprocess; symlinks are removed, never followed.
private func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        if let dir = opendir(path) {
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names { removeTree(path + "/" + name) }
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}
