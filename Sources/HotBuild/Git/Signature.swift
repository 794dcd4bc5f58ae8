internal import CLibGit2

/// Who made a commit and when.
public struct Signature: Sendable, Hashable {
    /// The person's name, e.g. "Ada Lovelace".
    public let name: String
    /// The person's email address, without angle brackets.
    public let email: String
    /// Seconds since 1970-01-01 UTC.
    public let time: Int64
    /// The signer's offset from UTC, in minutes (git records the local zone).
    public let offsetMinutes: Int32

    /// The name Hot signs with when git has no `user.name` (typical on CI).
    public static let fallbackName = "hot"
    /// The email that goes with `fallbackName`.
    public static let fallbackEmail = "hot@localhost"

    /// A signature with an explicit time, e.g. to make commits reproducible.
    public init(name: String, email: String, time: Int64, offsetMinutes: Int32 = 0) {
        self.name = name
        self.email = email
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    /// A signature for `name` and `email`, dated now in the local time zone.
    public static func now(name: String, email: String) throws(GitError) -> Signature {
        _ = LibGit2.ready
        let sig = try owned("git_signature_now", release: git_signature_free) {
            git_signature_now(&$0, name, email)
        }
        // The strings are read from `sig`'s memory: keep it alive until then.
        return withExtendedLifetime(sig) { Signature(sig.raw.pointee) }
    }

    init(_ sig: git_signature) {
        self.init(name: string(sig.name), email: string(sig.email),
                  time: Int64(sig.when.time), offsetMinutes: Int32(sig.when.offset))
    }

    /// The libgit2 form, owned, for commit and tag creation. libgit2 rejects
    /// empty names and names containing '<' or '>'.
    func makeC() throws(GitError) -> Owned<UnsafeMutablePointer<git_signature>> {
        try owned("git_signature_new", release: git_signature_free) {
            git_signature_new(&$0, name, email, git_time_t(time), Int32(offsetMinutes))
        }
    }

    /// The repository's configured identity (`user.name`, `user.email`), or
    /// the fallback when none is configured, so that committing never fails
    /// for want of an identity; dated now.
    static func makeDefaultC(in repo: OpaquePointer) throws(GitError) -> Owned<UnsafeMutablePointer<git_signature>> {
        if let sig = try? owned("git_signature_default", release: git_signature_free, {
            git_signature_default(&$0, repo)
        }) {
            return sig
        }
        return try owned("git_signature_now", release: git_signature_free) {
            git_signature_now(&$0, fallbackName, fallbackEmail)
        }
    }
}

extension Repository {
    /// The identity commits get by default: the repository's configured user,
    /// else "hot <hot@localhost>"; dated now.
    public func defaultSignature() throws(GitError) -> Signature {
        try locked { repo throws(GitError) in
            let sig = try Signature.makeDefaultC(in: repo)
            return withExtendedLifetime(sig) { Signature(sig.raw.pointee) }
        }
    }
}
