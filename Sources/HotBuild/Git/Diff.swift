internal import CLibGit2

/// One file that differs between a commit and the work tree.
public struct Change: Sendable, Hashable {
    /// How the file differs.
    public enum Kind: Sendable, Hashable {
        /// Not in the commit; in the work tree (untracked files included).
        case added
        /// In both, with different content, mode or type.
        case modified
        /// In the commit, gone from the work tree.
        case deleted
        /// Moved, with similar content (only with rename detection on).
        case renamed
    }

    /// How the file differs.
    public let kind: Kind
    /// Path in the commit (equal to `newPath` unless renamed).
    public let oldPath: String
    /// Path in the work tree (equal to `oldPath` unless renamed).
    public let newPath: String
}

extension Repository {
    /// What differs between `revision`'s tree and the work tree as `git diff
    /// <revision>` plus `git status` would see it: staged and unstaged edits,
    /// deletions, and untracked files (inside untracked directories too),
    /// ignored files left out. `prefix` limits it to one directory.
    ///
    /// Rename detection is off by default: it reads the content of every
    /// added and deleted file, and a build only needs to know which paths
    /// changed; then a move shows as a deletion plus an addition.
    public func diff(
        from revision: ObjectID, toWorkdirUnder prefix: String? = nil, findRenames: Bool = false
    ) throws(GitError) -> [Change] {
        try diff(from: revision, toWorkdirUnder: prefix.map { [$0] } ?? [], findRenames: findRenames)
    }

    /// The same, limited to the directories (or files) `prefixes`, relative
    /// to the root; all of the work tree when `prefixes` is empty.
    public func diff(
        from revision: ObjectID, toWorkdirUnder prefixes: [String], findRenames: Bool = false
    ) throws(GitError) -> [Change] {
        try locked { repo throws(GitError) in
            let commit = try Repository.lookupCommit(revision, in: repo)
            let tree = try owned("git_commit_tree", release: git_tree_free) {
                git_commit_tree(&$0, commit.raw)
            }
            var options = git_diff_options()
            try check("git_diff_options_init", git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)))
            var flags = GIT_DIFF_INCLUDE_UNTRACKED.rawValue | GIT_DIFF_RECURSE_UNTRACKED_DIRS.rawValue
                | GIT_DIFF_INCLUDE_TYPECHANGE.rawValue
            let directories = prefixes.compactMap(normalisedPrefix)
            // Literal directories, not globs: prefixes may contain '*' or '['.
            if !directories.isEmpty { flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH.rawValue }
            options.flags = flags

            return try withStrArray(directories) { pathspec throws(GitError) -> [Change] in
                options.pathspec = pathspec
                let diff = try owned("git_diff_tree_to_workdir_with_index", release: git_diff_free) {
                    git_diff_tree_to_workdir_with_index(&$0, repo, tree.raw, &options)
                }
                // Deltas and their paths point into the diff's memory.
                defer { withExtendedLifetime(diff) {} }
                if findRenames {
                    var find = git_diff_find_options()
                    try check("git_diff_find_options_init",
                              git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)))
                    // FOR_UNTRACKED: the new name of a moved file is usually
                    // not yet staged, and should still pair with the old one.
                    find.flags = GIT_DIFF_FIND_RENAMES.rawValue | GIT_DIFF_FIND_FOR_UNTRACKED.rawValue
                    try check("git_diff_find_similar", git_diff_find_similar(diff.raw, &find))
                }
                var changes: [Change] = []
                for i in 0..<git_diff_num_deltas(diff.raw) {
                    guard let delta = git_diff_get_delta(diff.raw, i)?.pointee,
                          let kind = Change.Kind(delta.status) else { continue }
                    changes.append(Change(kind: kind,
                                          oldPath: string(delta.old_file.path),
                                          newPath: string(delta.new_file.path)))
                }
                return changes
            }
        }
    }
}

extension Change.Kind {
    /// Our four kinds from libgit2's; nil for what is not a change.
    init?(_ status: git_delta_t) {
        switch status {
        case GIT_DELTA_ADDED, GIT_DELTA_UNTRACKED, GIT_DELTA_COPIED: self = .added
        case GIT_DELTA_DELETED: self = .deleted
        case GIT_DELTA_RENAMED: self = .renamed
        // A type change (file to symlink) or an unreadable or conflicted
        // file still means the content a build sees is different.
        case GIT_DELTA_MODIFIED, GIT_DELTA_TYPECHANGE, GIT_DELTA_UNREADABLE, GIT_DELTA_CONFLICTED: self = .modified
        default: return nil  // unmodified, ignored
        }
    }
}
