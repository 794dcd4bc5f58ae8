#if canImport(Glibc)
import Glibc
#endif
import HotPlatform

/// The right to write a project's `.hot/` build output and manifest, held by
/// one `hot` process at a time: flock(2) on `.hot/lock`. Two builds at once
/// would both number their version N+1 and each delete the other's entry
/// file mid-compile. The kernel drops a flock when its descriptor closes, so
/// a holder that is killed never leaves the project locked; the file only
/// names the holder's pid, for the one who waits.
public final class ProjectLock {
    private var fd: Int32
    /// Whether the flock is ours (else only the file is open).
    private var held = false

    /// Why the lock was not taken.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Another process held it for the whole wait.
        case timedOut(path: String, holder: Int32?, seconds: Double)
        /// The lock file could not be made or locked.
        case system(SystemError)

        public var description: String {
            switch self {
            case .timedOut(let path, let holder, let seconds):
                "another hot command\(holder.map { " (pid \($0))" } ?? "") has been writing this project's builds for over "
                    + "\(Int(seconds)) s (lock \(path)); run this again when it has finished"
            case .system(let error): "cannot lock the project: \(error)"
            }
        }
    }

    private init(fd: Int32) { self.fd = fd }

    /// Takes `project`'s lock, waiting up to `timeout` seconds while another
    /// process holds it; `waiting` is called once, with the holder's pid when
    /// its file names one, if the lock is not free at once.
    public static func acquire(
        _ project: Project, timeout: Double, waiting: (_ holder: Int32?) -> Void
    ) throws(Failure) -> ProjectLock {
        do { try project.makeHotDirectory() } catch { throw .system(error) }
        let path = project.lockPath
        // Close-on-exec: a node `hot start` spawns must not inherit, and so
        // hold, the lock for its whole life.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(SystemError("open")) }
        let lock = ProjectLock(fd: fd)
        let deadline = monotonic() + timeout
        var told = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw .system(SystemError("flock \(path)")) }
            if !told {
                told = true
                waiting(lock.holder())
            }
            // flock(2) has no timeout of its own: poll.
            guard monotonic() < deadline else { throw .timedOut(path: path, holder: lock.holder(), seconds: timeout) }
            usleep(50_000)
        }
        lock.held = true
        var text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, &text, text.count, 0)
        return lock
    }

    /// The pid the lock file names.
    private func holder() -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingWhitespace())
    }

    /// Gives the lock up; later calls do nothing.
    public func release() {
        guard fd >= 0 else { return }
        // The pid goes before the lock does; a waiter's file is not ours to clear.
        if held { _ = ftruncate(fd, 0) }
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
