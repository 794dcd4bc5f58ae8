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
            let commitObject = try Repository.lookupCommit(commit, in: repo)
            let root = try owned("git_commit_tree", release: git_tree_free) {
                git_commit_tree(&$0, commitObject.raw)
            }
            var entries: [TreeEntry] = []
            guard let prefix = normalisedPrefix(prefix) else {
                try Repository.collect(root, base: "", in: repo, into: &entries)
                return entries
            }
            var found: OpaquePointer? = nil
            let code = git_tree_entry_bypath(&found, root.raw, prefix)
            if code == GIT_ENOTFOUND.rawValue { return [] }
            try check("git_tree_entry_bypath", code)
            let entry = Owned<OpaquePointer>(found!, release: git_tree_entry_free)
            defer { withExtendedLifetime(entry) {} }
            if git_tree_entry_type(entry.raw) == GIT_OBJECT_TREE {
                let subtree = try owned("git_tree_lookup", release: git_tree_free) {
                    git_tree_lookup(&$0, repo, git_tree_entry_id(entry.raw))
                }
                try Repository.collect(subtree, base: prefix + "/", in: repo, into: &entries)
            } else if let file = Repository.file(entry.raw, path: prefix) {
                // The prefix named a file: the list is that one file.
                entries.append(file)
            }
            return entries
        }
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
