internal import CLibGit2

extension Repository {
    /// The commit a revision names: "HEAD", "HEAD~3", a branch, a tag (peeled
    /// to its commit), a remote branch such as "origin/main", or a full or
    /// abbreviated commit id; anything `git rev-parse` accepts.
    public func resolve(_ revision: String) throws(GitError) -> ObjectID {
        try locked { repo throws(GitError) in try Repository.resolve(revision, in: repo) }
    }

    /// The commit HEAD points at; nil while the branch has no commit.
    public func headCommit() throws(GitError) -> ObjectID? {
        try locked { repo throws(GitError) in try Repository.headCommit(in: repo) }
    }

    static func resolve(_ revision: String, in repo: OpaquePointer) throws(GitError) -> ObjectID {
        var found: OpaquePointer? = nil
        let code = git_revparse_single(&found, repo, revision)
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue
            || code == GIT_EAMBIGUOUS.rawValue || code == GIT_EUNBORNBRANCH.rawValue {
            // "HEAD" in a fresh repository is not a typo: say there are no commits.
            if revision.hasPrefix("HEAD") || revision.hasPrefix("@"), git_repository_head_unborn(repo) == 1 {
                throw .noCommits
            }
            throw .unknownRevision(revision)
        }
        try check("git_revparse_single", code)
        let object = Owned<OpaquePointer>(found!, release: git_object_free)
        var peeled: OpaquePointer? = nil
        // Peeling follows annotated tags to their target; a tree or blob
        // cannot peel to a commit.
        guard git_object_peel(&peeled, object.raw, GIT_OBJECT_COMMIT) == 0, let peeled else {
            throw .notACommit(revision)
        }
        let commit = Owned<OpaquePointer>(peeled, release: git_object_free)
        return withExtendedLifetime(commit) { ObjectID(git_object_id(commit.raw)) }
    }

    static func headCommit(in repo: OpaquePointer) throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let code = git_reference_name_to_id(&oid, repo, "HEAD")
        // ENOTFOUND: HEAD names a branch that does not exist yet (unborn).
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check("git_reference_name_to_id", code)
        return ObjectID(oid)
    }
}
