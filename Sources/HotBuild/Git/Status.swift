internal import CLibGit2

/// One path whose state differs between HEAD, the index and the work tree.
public struct StatusEntry: Sendable, Hashable {
    /// What differs; a path can be changed in the index and again in the work tree.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        /// Makes flags from their raw bits (those of libgit2's `git_status_t`).
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Staged: added to the index, not in HEAD.
        public static let indexNew = Flags(rawValue: GIT_STATUS_INDEX_NEW.rawValue)
        /// Staged: content differs from HEAD.
        public static let indexModified = Flags(rawValue: GIT_STATUS_INDEX_MODIFIED.rawValue)
        /// Staged: removed from the index.
        public static let indexDeleted = Flags(rawValue: GIT_STATUS_INDEX_DELETED.rawValue)
        /// Staged: renamed (only reported when rename detection is on).
        public static let indexRenamed = Flags(rawValue: GIT_STATUS_INDEX_RENAMED.rawValue)
        /// Staged: changed between file, symlink and submodule.
        public static let indexTypeChange = Flags(rawValue: GIT_STATUS_INDEX_TYPECHANGE.rawValue)
        /// Work tree: a file git does not track (untracked).
        public static let workdirNew = Flags(rawValue: GIT_STATUS_WT_NEW.rawValue)
        /// Work tree: content differs from the index.
        public static let workdirModified = Flags(rawValue: GIT_STATUS_WT_MODIFIED.rawValue)
        /// Work tree: tracked file missing from disk.
        public static let workdirDeleted = Flags(rawValue: GIT_STATUS_WT_DELETED.rawValue)
        /// Work tree: renamed (only reported when rename detection is on).
        public static let workdirRenamed = Flags(rawValue: GIT_STATUS_WT_RENAMED.rawValue)
        /// Work tree: changed between file, symlink and submodule.
        public static let workdirTypeChange = Flags(rawValue: GIT_STATUS_WT_TYPECHANGE.rawValue)
        /// Unmerged: a merge left conflicts in this path.
        public static let conflicted = Flags(rawValue: GIT_STATUS_CONFLICTED.rawValue)

        /// Any staged change.
        public static let inIndex: Flags = [.indexNew, .indexModified, .indexDeleted, .indexRenamed, .indexTypeChange]
        /// Any unstaged change, untracked files included.
        public static let inWorkdir: Flags = [.workdirNew, .workdirModified, .workdirDeleted, .workdirRenamed, .workdirTypeChange]
    }

    /// Path relative to the repository root.
    public let path: String
    /// How the path differs.
    public let flags: Flags

    /// True for a file git does not track.
    public var isUntracked: Bool { flags.contains(.workdirNew) }
}

extension StatusEntry: CustomStringConvertible {
    /// The line `git status --porcelain` prints, e.g. "?? notes.txt" or "M  Sources/a.swift".
    public var description: String {
        if flags.contains(.conflicted) { return "UU \(path)" }
        if flags.contains(.workdirNew) { return "?? \(path)" }
        // First match wins, in git's order of precedence.
        func code(_ letters: [(Flags, Character)]) -> Character {
            letters.first { flags.contains($0.0) }?.1 ?? " "
        }
        let x = code([(.indexNew, "A"), (.indexModified, "M"), (.indexDeleted, "D"),
                      (.indexRenamed, "R"), (.indexTypeChange, "T")])
        let y = code([(.workdirModified, "M"), (.workdirDeleted, "D"),
                      (.workdirRenamed, "R"), (.workdirTypeChange, "T")])
        return "\(x)\(y) \(path)"
    }
}

extension Repository {
    /// What `git status` lists: staged changes (index vs HEAD) and unstaged
    /// ones (work tree vs index), in path order. Untracked files are listed
    /// one by one, inside untracked directories too; ignored files never.
    /// `prefix` limits the list to one directory (relative to the root).
    public func status(includeUntracked: Bool = true, under prefix: String? = nil) throws(GitError) -> [StatusEntry] {
        try locked { repo throws(GitError) in
            var options = git_status_options()
            try check("git_status_options_init",
                      git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)))
            options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
            var flags = GIT_STATUS_OPT_SORT_CASE_SENSITIVELY.rawValue
            if includeUntracked {
                flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            }
            // A literal directory, not a glob: prefixes may contain '*' or '['.
            if normalisedPrefix(prefix) != nil { flags |= GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH.rawValue }
            options.flags = flags

            let paths = normalisedPrefix(prefix).map { [$0] } ?? []
            return try withStrArray(paths) { pathspec throws(GitError) -> [StatusEntry] in
                options.pathspec = pathspec
                let list = try owned("git_status_list_new", release: git_status_list_free) {
                    git_status_list_new(&$0, repo, &options)
                }
                // Entries and their paths point into the list's memory.
                defer { withExtendedLifetime(list) {} }
                var entries: [StatusEntry] = []
                for i in 0..<git_status_list_entrycount(list.raw) {
                    guard let entry = git_status_byindex(list.raw, i)?.pointee else { continue }
                    // Prefer the work tree side: it has the path as it is on disk now.
                    guard let delta = entry.index_to_workdir ?? entry.head_to_index else { continue }
                    let path = string(delta.pointee.new_file.path ?? delta.pointee.old_file.path)
                    entries.append(StatusEntry(path: path, flags: Flags(rawValue: entry.status.rawValue)))
                }
                return entries
            }
        }
    }

    /// Whether git ignores `path` (relative to the root, or absolute inside
    /// the work tree), by .gitignore files, .git/info/exclude and core.excludesFile.
    public func isIgnored(path: String) throws(GitError) -> Bool {
        var relative = path
        if relative.hasPrefix(workdir + "/") { relative = String(relative.dropFirst(workdir.count + 1)) }
        return try locked { repo throws(GitError) in
            var ignored: Int32 = 0
            try check("git_ignore_path_is_ignored", git_ignore_path_is_ignored(&ignored, repo, relative))
            return ignored == 1
        }
    }
}

private typealias Flags = StatusEntry.Flags
