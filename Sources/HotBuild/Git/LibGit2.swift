internal import CLibGit2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Glue shared by the files of this folder: one-time library set-up, the owner
// of C pointers, and the conversion of return codes into `GitError`.

/// libgit2 wants `git_libgit2_init` before any other call, and exactly once
/// is enough since we never shut it down. A static `let` is initialised
/// lazily under `swift_once`, which makes this thread-safe without a lock.
enum LibGit2 {
    static let ready: Void = {
        _ = git_libgit2_init()
    }()
}

/// The single owner of one libgit2 pointer: frees it when the last Swift
/// reference goes, so early returns and thrown errors cannot leak it.
final class Owned<Pointer> {
    let raw: Pointer
    private let release: (Pointer) -> Void

    init(_ raw: Pointer, release: @escaping (Pointer) -> Void) {
        self.raw = raw
        self.release = release
    }

    deinit { release(raw) }
}

/// Calls a libgit2 constructor that fills an out-pointer and wraps the result
/// in its owner. On failure throws what `domain` makes of the code (e.g.
/// GIT_ENOTFOUND as `.unknownRevision`), else `.call` naming `function`.
func owned<Pointer>(
    _ function: String,
    release: @escaping (Pointer) -> Void,
    domain: (Int32) -> GitError? = { _ in nil },
    _ make: (inout Pointer?) -> Int32
) throws(GitError) -> Owned<Pointer> {
    var out: Pointer? = nil
    let code = make(&out)
    if code < 0, let error = domain(code) { throw error }
    // A NULL result with success would be a libgit2 bug; fail rather than crash.
    guard code >= 0, let out else { throw GitError.last(function, code: code) }
    return Owned(out, release: release)
}

/// Throws `GitError.call` when a libgit2 call returned a negative code.
@discardableResult
func check(_ function: String, _ code: Int32) throws(GitError) -> Int32 {
    if code < 0 { throw GitError.last(function, code: code) }
    return code
}

/// Runs `body` with a `git_strarray` over `strings`; the C copies live only
/// for the call, which is all libgit2 needs (it copies what it keeps).
func withStrArray<T>(
    _ strings: [String],
    _ body: (inout git_strarray) throws(GitError) -> T
) throws(GitError) -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for p in pointers { free(p) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(GitError) -> T in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}

/// A Swift string from a C string libgit2 may leave NULL.
func string(_ c: UnsafePointer<CChar>?) -> String {
    guard let c else { return "" }
    return String(cString: c)
}

/// Drops the trailing slash libgit2 puts on directory paths.
func trimmingSlash(_ path: String) -> String {
    var path = path
    while path.count > 1, path.hasSuffix("/") { path.removeLast() }
    return path
}

/// Normalises a repo-relative prefix: no "./", no leading or trailing slash;
/// nil when it names the whole tree.
func normalisedPrefix(_ prefix: String?) -> String? {
    guard var p = prefix else { return nil }
    while p.hasPrefix("./") { p.removeFirst(2) }
    while p.hasPrefix("/") { p.removeFirst() }
    while p.hasSuffix("/") { p.removeLast() }
    return (p.isEmpty || p == ".") ? nil : p
}
