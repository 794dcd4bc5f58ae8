internal import CLibGit2

extension Repository {
    /// Stages every change in the work tree, like `git add --all`: new and
    /// modified files are added (ignored files are not), deleted files are
    /// removed from the index; the index is then written to disk.
    public func addAll() throws(GitError) {
        try locked { repo throws(GitError) in
            let index = try owned("git_repository_index", release: git_index_free) {
                git_repository_index(&$0, repo)
            }
            try withStrArray(["*"]) { paths throws(GitError) in
                try check("git_index_add_all",
                          git_index_add_all(index.raw, &paths, GIT_INDEX_ADD_DEFAULT.rawValue, nil, nil))
                // add_all only adds and updates; removal of deleted files is
                // a separate pass.
                try check("git_index_update_all", git_index_update_all(index.raw, &paths, nil, nil))
            }
            try check("git_index_write", git_index_write(index.raw))
        }
    }
}
