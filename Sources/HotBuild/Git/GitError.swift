internal import CLibGit2

/// Everything that can go wrong in a git operation, each case with what the
/// user should do about it.
public enum GitError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A libgit2 function failed: its name, return code and libgit2's message.
    case call(String, code: Int32, message: String)
    /// No repository at or above `path`.
    case notARepository(path: String)
    /// The repository at `path` has no work tree, and Hot builds from one.
    case bareRepository(path: String)
    /// HEAD names a branch with no commit yet.
    case noCommits
    /// The revision names nothing in this repository.
    case unknownRevision(String)
    /// The revision names an object that is not (and does not peel to) a commit.
    case notACommit(String)
    /// A branch or tag of that name already exists.
    case alreadyExists(String)
    /// The checkout would overwrite local changes to the listed state.
    case checkoutConflict(String)

    /// One line: what happened, then what to do.
    public var description: String {
        switch self {
        case let .call(function, code, message):
            // libgit2 messages can end in or contain newlines; keep one line.
            let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
            let detail = flat.isEmpty ? "error \(code)" : flat
            return "git: \(function) failed: \(detail)"
        case let .notARepository(path):
            return "not inside a git repository (searched upward from \(path)): run `git init` or `hot init`"
        case let .bareRepository(path):
            return "\(path) is a bare git repository: run hot in a clone that has a work tree"
        case .noCommits:
            return "the repository has no commits yet: commit your files first (`git add -A && git commit`)"
        case let .unknownRevision(revision):
            return "unknown revision '\(revision)': check the branch, tag or commit id (`git log --oneline`)"
        case let .notACommit(revision):
            return "'\(revision)' does not name a commit: give a branch, tag or commit id"
        case let .alreadyExists(name):
            return "'\(name)' already exists: pick another name or delete the old one"
        case let .checkoutConflict(name):
            return "checking out '\(name)' would overwrite local changes: commit or stash them first"
        }
    }

    /// Builds `.call` from libgit2's thread-local last error, which must be
    /// read right after the failing call, before another call replaces it.
    static func last(_ function: String, code: Int32) -> GitError {
        var message = ""
        if let error = git_error_last(), let text = error.pointee.message {
            message = String(cString: text)
        }
        while message.last?.isNewline == true { message.removeLast() }
        return .call(function, code: code, message: message)
    }
}
