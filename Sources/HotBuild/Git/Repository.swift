internal import CLibGit2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HotPlatform

/// An open git repository with a work tree.
///
/// Safe to share between tasks: libgit2 forbids using one repository from two
/// threads at once, so every call into it takes `lock` (hence the unchecked
/// Sendable). Results are plain Swift values that outlive the lock.
public final class Repository: @unchecked Sendable {
    private let raw: OpaquePointer
    private let lock = Locked<Void>(())

    /// Absolute path of the work tree, without a trailing slash.
    public let workdir: String
    /// Absolute path of the `.git` directory, without a trailing slash.
    public let gitDir: String

    /// Takes ownership of `raw`; frees it and throws if there is no work tree.
    private init(owning raw: OpaquePointer) throws(GitError) {
        self.raw = raw
        gitDir = trimmingSlash(string(git_repository_path(raw)))
        guard let workdir = git_repository_workdir(raw) else {
            // deinit does not run for a partly initialised object, so free here.
            let path = gitDir
            git_repository_free(raw)
            throw .bareRepository(path: path)
        }
        self.workdir = trimmingSlash(String(cString: workdir))
    }

    deinit { git_repository_free(raw) }

    /// Runs `body` with the repository pointer while holding the lock. Every
    /// use of `raw` goes through here; `body` must not call back into public
    /// methods (the lock is not recursive), only the static helpers.
    func locked<T: Sendable, E: Error>(_ body: (OpaquePointer) throws(E) -> T) throws(E) -> T {
        try lock.withLock { _ throws(E) -> T in try body(raw) }
    }

    /// Finds the repository containing `path` by searching it and its parents,
    /// the way the git command does, and opens it.
    public static func discover(from path: String) throws(GitError) -> Repository {
        _ = LibGit2.ready
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let code = git_repository_discover(&buffer, path, 0, nil)
        if code == GIT_ENOTFOUND.rawValue { throw .notARepository(path: absolutePath(path)) }
        try check("git_repository_discover", code)
        return try open(at: String(cString: buffer.ptr))
    }

    /// Opens the repository whose work tree or `.git` directory is `path`,
    /// without searching parents.
    public static func open(at path: String) throws(GitError) -> Repository {
        _ = LibGit2.ready
        var repo: OpaquePointer? = nil
        let code = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
        if code == GIT_ENOTFOUND.rawValue { throw .notARepository(path: absolutePath(path)) }
        try check("git_repository_open_ext", code)
        return try Repository(owning: repo!)
    }

    /// Creates (or reinitialises) a repository with a work tree at `path`,
    /// making missing directories. `initialBranch` defaults to git's
    /// `init.defaultBranch` setting, else "master".
    public static func create(at path: String, initialBranch: String? = nil) throws(GitError) -> Repository {
        _ = LibGit2.ready
        var options = git_repository_init_options()
        try check("git_repository_init_options_init",
                  git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)))
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | GIT_REPOSITORY_INIT_MKDIR.rawValue
        var repo: OpaquePointer? = nil
        // The C string must outlive the call, so it is kept in a local copy.
        let head: [CChar]? = initialBranch.map { Array($0.utf8CString) }
        let code: Int32
        if let head {
            code = head.withUnsafeBufferPointer { buffer in
                options.initial_head = buffer.baseAddress
                return git_repository_init_ext(&repo, path, &options)
            }
        } else {
            code = git_repository_init_ext(&repo, path, &options)
        }
        try check("git_repository_init_ext", code)
        return try Repository(owning: repo!)
    }

    /// True while HEAD names a branch that has no commit yet (a fresh repository).
    public var isHeadUnborn: Bool {
        locked { git_repository_head_unborn($0) == 1 }
    }

    /// True when HEAD points at a commit rather than a branch.
    public var isHeadDetached: Bool {
        locked { git_repository_head_detached($0) == 1 }
    }

    /// The short name of the branch HEAD is on (also when it has no commit
    /// yet); nil when HEAD is detached.
    public var headName: String? {
        locked { repo -> String? in
            guard let head = try? owned("git_reference_lookup", release: git_reference_free, {
                git_reference_lookup(&$0, repo, "HEAD")
            }) else { return nil }
            guard git_reference_type(head.raw) == GIT_REFERENCE_SYMBOLIC else { return nil }
            let target = withExtendedLifetime(head) { string(git_reference_symbolic_target(head.raw)) }
            let prefix = "refs/heads/"
            return target.hasPrefix(prefix) ? String(target.dropFirst(prefix.count)) : target
        }
    }

    /// `path` made absolute for messages; unchanged when it cannot be resolved.
    private static func absolutePath(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }
}
