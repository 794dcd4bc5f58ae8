internal import CLibGit2

/// A commit as read from the repository.
public struct Commit: Sendable, Hashable {
    /// The commit's own id.
    public let id: ObjectID
    /// The parents' ids: none for a root commit, two or more for a merge.
    public let parents: [ObjectID]
    /// The id of the tree the commit records.
    public let tree: ObjectID
    /// The first paragraph of the message, joined into one line.
    public let summary: String
    /// The full message.
    public let message: String
    /// Who wrote the change.
    public let author: Signature
    /// Who recorded the commit.
    public let committer: Signature

    /// The commit time in seconds since 1970 (the committer's, as `git log` orders by).
    public var time: Int64 { committer.time }
}

extension Repository {
    /// Reads the commit `id`; `.unknownRevision` if there is none.
    public func commit(_ id: ObjectID) throws(GitError) -> Commit {
        try locked { repo throws(GitError) in
            let commit = try Repository.lookupCommit(id, in: repo)
            // Every string below points into the commit's memory.
            defer { withExtendedLifetime(commit) {} }
            let raw = commit.raw
            let parents = (0..<git_commit_parentcount(raw)).map { ObjectID(git_commit_parent_id(raw, $0)) }
            return Commit(
                id: id,
                parents: parents,
                tree: ObjectID(git_commit_tree_id(raw)),
                summary: string(git_commit_summary(raw)),
                message: string(git_commit_message(raw)),
                author: Signature(git_commit_author(raw).pointee),
                committer: Signature(git_commit_committer(raw).pointee)
            )
        }
    }

    /// Commits the index on top of HEAD and moves the current branch to the
    /// new commit, which becomes the branch's first commit if it has none.
    /// Author and committer are `author`, else `defaultSignature()`.
    @discardableResult
    public func commit(message: String, author: Signature? = nil) throws(GitError) -> ObjectID {
        try locked { repo throws(GitError) in
            let index = try owned("git_repository_index", release: git_index_free) {
                git_repository_index(&$0, repo)
            }
            var treeID = git_oid()
            try check("git_index_write_tree", git_index_write_tree(&treeID, index.raw))
            let tree = try owned("git_tree_lookup", release: git_tree_free) {
                git_tree_lookup(&$0, repo, &treeID)
            }
            let signature: Owned<UnsafeMutablePointer<git_signature>>
            if let author {
                signature = try author.makeC()
            } else {
                signature = try Signature.makeDefaultC(in: repo)
            }

            var parents: [Owned<OpaquePointer>] = []
            if let head = try Repository.headCommit(in: repo) {
                parents.append(try Repository.lookupCommit(head, in: repo))
            }
            // The C array borrows the parents' pointers; the owners must outlive the call.
            defer { withExtendedLifetime(parents) {} }
            var parentPointers: [OpaquePointer?] = parents.map { $0.raw }

            // Clean the message the way `git commit` does (trailing newline,
            // no trailing blank lines) so `git log` shows it the same.
            var cleaned = git_buf()
            defer { git_buf_dispose(&cleaned) }
            try check("git_message_prettify", git_message_prettify(&cleaned, message, 0, CChar(UInt8(ascii: "#"))))

            var id = git_oid()
            let code = parentPointers.withUnsafeMutableBufferPointer { buffer in
                git_commit_create(&id, repo, "HEAD", signature.raw, signature.raw, nil,
                                  cleaned.ptr, tree.raw, buffer.count, buffer.baseAddress)
            }
            try check("git_commit_create", code)
            return ObjectID(id)
        }
    }

    /// The commit object `id`, owned; `.unknownRevision` when absent.
    static func lookupCommit(_ id: ObjectID, in repo: OpaquePointer) throws(GitError) -> Owned<OpaquePointer> {
        var oid = id.oid
        return try owned("git_commit_lookup", release: git_commit_free,
                         domain: { $0 == GIT_ENOTFOUND.rawValue ? .unknownRevision(id.description) : nil }) {
            git_commit_lookup(&$0, repo, &oid)
        }
    }
}
