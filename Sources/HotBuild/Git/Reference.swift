internal import CLibGit2

extension Repository {
    /// Creates the local branch `name` at `commit`; `.alreadyExists` if it does.
    public func createBranch(_ name: String, at commit: ObjectID) throws(GitError) {
        try locked { repo throws(GitError) in
            let target = try Repository.lookupCommit(commit, in: repo)
            _ = try owned("git_branch_create", release: git_reference_free,
                          domain: { $0 == GIT_EEXISTS.rawValue ? .alreadyExists(name) : nil }) {
                git_branch_create(&$0, repo, name, target.raw, 0)
            }
        }
    }

    /// Creates the tag `name` at `commit`: lightweight without a message,
    /// annotated (signed by `defaultSignature()`) with one.
    public func createTag(_ name: String, at commit: ObjectID, message: String? = nil) throws(GitError) {
        try locked { repo throws(GitError) in
            let target = try Repository.lookupCommit(commit, in: repo)
            var id = git_oid()
            let code: Int32
            if let message {
                let tagger = try Signature.makeDefaultC(in: repo)
                var cleaned = git_buf()
                defer { git_buf_dispose(&cleaned) }
                // Same clean-up as `git tag -m`: a trailing newline, no trailing blank lines.
                try check("git_message_prettify", git_message_prettify(&cleaned, message, 0, CChar(UInt8(ascii: "#"))))
                code = git_tag_create(&id, repo, name, target.raw, tagger.raw, cleaned.ptr, 0)
            } else {
                code = git_tag_create_lightweight(&id, repo, name, target.raw, 0)
            }
            if code == GIT_EEXISTS.rawValue { throw .alreadyExists(name) }
            try check(message == nil ? "git_tag_create_lightweight" : "git_tag_create", code)
        }
    }

    /// Points the full reference `name` (e.g. "refs/remotes/origin/main") at
    /// `commit`, creating or moving it.
    public func setReference(_ name: String, to commit: ObjectID) throws(GitError) {
        try locked { repo throws(GitError) in
            var oid = commit.oid
            _ = try owned("git_reference_create", release: git_reference_free) {
                git_reference_create(&$0, repo, name, &oid, 1, nil)
            }
        }
    }

    /// Switches to the local branch `name`: updates the work tree and index
    /// to its commit, then points HEAD at the branch. Without `force`, local
    /// changes that would be overwritten stop it with `.checkoutConflict`;
    /// with it they are discarded. Untracked files are left alone.
    public func checkout(branch name: String, force: Bool = false) throws(GitError) {
        try locked { repo throws(GitError) in
            let branch = try owned("git_branch_lookup", release: git_reference_free, domain: {
                $0 == GIT_ENOTFOUND.rawValue || $0 == GIT_EINVALIDSPEC.rawValue ? .unknownRevision(name) : nil
            }) {
                git_branch_lookup(&$0, repo, name, GIT_BRANCH_LOCAL)
            }
            let commit = try Repository.peelToCommit(branch.raw, name: name)
            try Repository.checkoutTree(of: commit, force: force, name: name, in: repo)
            try check("git_repository_set_head", git_repository_set_head(repo, git_reference_name(branch.raw)))
        }
    }

    /// Checks out `commit` and detaches HEAD at it, like `git checkout <id>`.
    public func checkout(detachedAt commit: ObjectID, force: Bool = false) throws(GitError) {
        try locked { repo throws(GitError) in
            let object = try Repository.lookupCommit(commit, in: repo)
            try Repository.checkoutTree(of: object, force: force, name: commit.description, in: repo)
            var oid = commit.oid
            try check("git_repository_set_head_detached", git_repository_set_head_detached(repo, &oid))
        }
    }

    private static func peelToCommit(_ reference: OpaquePointer, name: String) throws(GitError) -> Owned<OpaquePointer> {
        var peeled: OpaquePointer? = nil
        guard git_reference_peel(&peeled, reference, GIT_OBJECT_COMMIT) == 0, let peeled else {
            throw .notACommit(name)
        }
        return Owned<OpaquePointer>(peeled, release: git_object_free)
    }

    private static func checkoutTree(
        of commit: Owned<OpaquePointer>, force: Bool, name: String, in repo: OpaquePointer
    ) throws(GitError) {
        var options = git_checkout_options()
        try check("git_checkout_options_init",
                  git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)))
        options.checkout_strategy = (force ? GIT_CHECKOUT_FORCE : GIT_CHECKOUT_SAFE).rawValue
        // A commit is a git_object too; checkout takes the object and finds its tree.
        let code = git_checkout_tree(repo, commit.raw, &options)
        if code == GIT_ECONFLICT.rawValue { throw .checkoutConflict(name) }
        try check("git_checkout_tree", code)
    }
}
