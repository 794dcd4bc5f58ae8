#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A failed system call: which one, and the `Errno` it left.
///
/// errno is read before anything else runs: the call's name is an
/// autoclosure evaluated afterwards, because building a string may allocate
/// and an allocation may overwrite errno (swift-nio's System.swift makes the
/// same point).
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libc function that failed, and on what.
    public let call: String
    /// errno as the call left it.
    public let errno: Errno

    /// Captures the current errno, then names the call.
    public init(_ call: @autoclosure () -> String) {
        let code = Errno(rawValue: Glibc.errno)
        self.errno = code
        self.call = call()
    }

    /// A failure whose errno the caller already holds (posix_spawn returns it).
    public init(_ call: String, errno: Errno) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(errno.description)" }

    /// Runs a libc call until it does not fail with EINTR; a negative result
    /// then becomes a `SystemError` naming `call`. The one EINTR loop of the
    /// project, in the shape of swift-system's `valueOrErrno`.
    @inline(__always)
    public static func retrying<T: BinaryInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            if Glibc.errno != EINTR { throw SystemError(call()) }
        }
    }
}
