internal import CLibGit2

/// A file recorded in a commit's tree.
public struct TreeEntry: Sendable, Hashable {
    /// How git records a file.
    public enum Mode: Sendable, Hashable {
        /// 100644, an ordinary file.
        case file
        /// 100755, a file with the executable bit.
        case executable
        /// 120000, a symbolic link; the blob holds the link's target.
        case symlink
    }

    /// Path relative to the repository root, with "/" separators.
    public let path: String
    /// The blob's id, comparable with `Repository.hashFile(at:)`.
    public let id: ObjectID
    /// The file's mode.
    public let mode: Mode
}

extension Repository {
    /// Every file in `commit`'s tree, recursively, or only those under the
    /// directory `prefix` (relative to the root); empty when `prefix` is not
    /// in the tree. Submodules are not files and are left out.
    public func treeEntries(of commit: ObjectID, under prefix: String? = nil) throws(GitError) -> [TreeEntry] {
        try locked { repo throws(GitError) in
            let root = try Repository.rootTree(of: commit, in: repo)
            var entries: [TreeEntry] = []
            guard let prefix = normalisedPrefix(prefix) else {
                try Repository.collect(root, base: "", in: repo, into: &entries)
                return entries
            }
            switch try Repository.lookup(prefix, in: root, repo: repo) {
            case nil:
                break
            case .tree(let subtree):
                try Repository.collect(subtree, base: prefix + "/", in: repo, into: &entries)
            case .other(let entry):
                // The prefix named a file: the list is that one file.
                if let file = Repository.file(entry.raw, path: prefix) { entries.append(file) }
                withExtendedLifetime(entry) {}
            }
            return entries
        }
    }

    /// The names of the directories right under the directory `prefix` in
    /// `commit`'s tree; empty when `prefix` is not a directory there. Reading
    /// one tree object, where `treeEntries` reads every tree below.
    public func directoryNames(of commit: ObjectID, under prefix: String) throws(GitError) -> [String] {
        try locked { repo throws(GitError) in
            let root = try Repository.rootTree(of: commit, in: repo)
            var tree = root
            if let prefix = normalisedPrefix(prefix) {
                guard case .tree(let subtree)? = try Repository.lookup(prefix, in: root, repo: repo) else { return [] }
                tree = subtree
            }
            defer { withExtendedLifetime(tree) {} }
            return (0..<git_tree_entrycount(tree.raw)).compactMap { i in
                guard let entry = git_tree_entry_byindex(tree.raw, i), git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return nil }
                return string(git_tree_entry_name(entry))
            }
        }
    }

    /// Whether the directory `prefix` in `commit`'s tree holds a file whose
    /// name `isWanted` accepts, in it or in a directory below whose name (and
    /// every one between) `isSearched` accepts. Stops at the first such file,
    /// so a folder that has one near the top costs one or two tree reads.
    public func containsFile(
        of commit: ObjectID, under prefix: String, where isWanted: (String) -> Bool, searching isSearched: (String) -> Bool
    ) throws(GitError) -> Bool {
        try locked { repo throws(GitError) in
            let root = try Repository.rootTree(of: commit, in: repo)
            guard let prefix = normalisedPrefix(prefix) else {
                return try Repository.contains(root, in: repo, where: isWanted, searching: isSearched)
            }
            guard case .tree(let subtree)? = try Repository.lookup(prefix, in: root, repo: repo) else { return false }
            return try Repository.contains(subtree, in: repo, where: isWanted, searching: isSearched)
        }
    }

    private static func contains(
        _ tree: Owned<OpaquePointer>, in repo: OpaquePointer, where isWanted: (String) -> Bool, searching isSearched: (String) -> Bool
    ) throws(GitError) -> Bool {
        defer { withExtendedLifetime(tree) {} }
        var folders: [OpaquePointer] = []
        // Files first: a module's sources usually sit at its top.
        for i in 0..<git_tree_entrycount(tree.raw) {
            guard let entry = git_tree_entry_byindex(tree.raw, i) else { continue }
            let name = string(git_tree_entry_name(entry))
            if git_tree_entry_type(entry) == GIT_OBJECT_TREE {
                if isSearched(name) { folders.append(entry) }
            } else if file(entry, path: name) != nil && isWanted(name) {
                return true
            }
        }
        for entry in folders {
            let subtree = try owned("git_tree_lookup", release: git_tree_free) { git_tree_lookup(&$0, repo, git_tree_entry_id(entry)) }
            if try contains(subtree, in: repo, where: isWanted, searching: isSearched) { return true }
        }
        return false
    }

    private static func rootTree(of commit: ObjectID, in repo: OpaquePointer) throws(GitError) -> Owned<OpaquePointer> {
        let commitObject = try lookupCommit(commit, in: repo)
        return try owned("git_commit_tree", release: git_tree_free) { git_commit_tree(&$0, commitObject.raw) }
    }

    /// What `path` names in `root`: a directory's tree, another entry, or nil.
    private enum Found {
        case tree(Owned<OpaquePointer>)
        case other(Owned<OpaquePointer>)
    }

    private static func lookup(_ path: String, in root: Owned<OpaquePointer>, repo: OpaquePointer) throws(GitError) -> Found? {
        var found: OpaquePointer? = nil
        let code = git_tree_entry_bypath(&found, root.raw, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_tree_entry_bypath", code)
        let entry = Owned<OpaquePointer>(found!, release: git_tree_entry_free)
        guard git_tree_entry_type(entry.raw) == GIT_OBJECT_TREE else { return .other(entry) }
        defer { withExtendedLifetime(entry) {} }
        return .tree(try owned("git_tree_lookup", release: git_tree_free) {
            git_tree_lookup(&$0, repo, git_tree_entry_id(entry.raw))
        })
    }

    /// Appends the files of `tree`, depth first, in git's (byte) order.
    private static func collect(
        _ tree: Owned<OpaquePointer>, base: String, in repo: OpaquePointer, into entries: inout [TreeEntry]
    ) throws(GitError) {
        // Entries are borrowed from the tree: keep it alive while they are read.
        defer { withExtendedLifetime(tree) {} }
        for i in 0..<git_tree_entrycount(tree.raw) {
            guard let entry = git_tree_entry_byindex(tree.raw, i) else { continue }
            let path = base + string(git_tree_entry_name(entry))
            if git_tree_entry_type(entry) == GIT_OBJECT_TREE {
                let subtree = try owned("git_tree_lookup", release: git_tree_free) {
                    git_tree_lookup(&$0, repo, git_tree_entry_id(entry))
                }
                try collect(subtree, base: path + "/", in: repo, into: &entries)
            } else if let file = file(entry, path: path) {
                entries.append(file)
            }
        }
    }

    /// The entry as a `TreeEntry`, or nil for what is not a file (a submodule).
    private static func file(_ entry: OpaquePointer, path: String) -> TreeEntry? {
        let mode: TreeEntry.Mode
        switch git_tree_entry_filemode(entry) {
        case GIT_FILEMODE_BLOB: mode = .file
        case GIT_FILEMODE_BLOB_EXECUTABLE: mode = .executable
        case GIT_FILEMODE_LINK: mode = .symlink
        default: return nil
        }
        return TreeEntry(path: path, id: ObjectID(git_tree_entry_id(entry)), mode: mode)
    }
}
