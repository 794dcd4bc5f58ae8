#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject

/// The right to write a project's `.hot/` build output and manifest, held by
/// one `hot` process at a time: flock(2) on `.hot/lock`. Two builds at once
/// would both number their version N+1 and each delete the other's entry
/// file mid-compile. The kernel drops a flock when its descriptor closes, so
/// a holder that is killed never leaves the project locked; the file only
/// names the holder's pid, for the one who waits.
public final class ProjectLock {
    /// The lock file, open until `release`.
    private var file: Descriptor?
    /// Whether the flock is ours (else only the file is open).
    private var held = false

    /// Why the lock was not taken.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Another process held it for the whole wait.
        case timedOut(path: String, holder: Int32?, after: Duration)
        /// The lock file could not be made or locked.
        case system(SystemError)

        public var description: String {
            switch self {
            case .timedOut(let path, let holder, let after):
                "another hot command\(holder.map { " (pid \($0))" } ?? "") has been writing this project's builds for over "
                    + "\(after.shortDescription) (lock \(path)); run this again when it has finished"
            case .system(let error): "cannot lock the project: \(error)"
            }
        }
    }

    private init(fd: Int32) { file = Descriptor(taking: fd) }

    /// Takes `project`'s lock, waiting up to `timeout` while another
    /// process holds it; `waiting` is called once, with the holder's pid when
    /// its file names one, if the lock is not free at once.
    public static func acquire(
        _ project: Project, timeout: Duration, waiting: (_ holder: Int32?) -> Void
    ) throws(Failure) -> ProjectLock {
        try acquire(project.layout, timeout: timeout, waiting: waiting)
    }

    /// Takes the lock of the project laid out as `layout`, which may have no
    /// hot.json yet (`hot adopt` writes it).
    public static func acquire(
        _ layout: ProjectLayout, timeout: Duration, waiting: (_ holder: Int32?) -> Void
    ) throws(Failure) -> ProjectLock {
        do { try layout.makeHotDirectory() } catch { throw .system(error) }
        let path = layout.lockPath
        // Close-on-exec: a node `hot start` spawns must not inherit, and so
        // hold, the lock for its whole life.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(SystemError("open")) }
        let lock = ProjectLock(fd: fd)
        let deadline = ContinuousClock.now + timeout
        // flock(2) has no timeout of its own. The holder's release is an
        // event on the file: it truncates it (IN_MODIFY), and its close, at
        // release or at its death, is IN_CLOSE_WRITE (it opened it to
        // write). The watch starts before the next try, so a release
        // between a failed try and the watch is not missed.
        var releases: Inotify?
        func locked() throws(Failure) -> Bool {
            do {
                _ = try SystemError.retrying("flock \(path)") { flock(fd, LOCK_EX | LOCK_NB) }
                return true
            } catch where error.errno == .wouldBlock {
                return false
            } catch { throw .system(error) }
        }
        while try !locked() {
            guard let watch = releases else {
                waiting(lock.holder())
                let watch: Inotify
                do {
                    watch = try Inotify()
                    _ = try watch.watch(path, mask: UInt32(IN_MODIFY | IN_CLOSE_WRITE))
                } catch { throw .system(error) }
                releases = watch
                continue
            }
            guard ContinuousClock.now < deadline else { throw .timedOut(path: path, holder: lock.holder(), after: timeout) }
            do { _ = try watch.read(timeout: deadline.timeLeft) } catch { throw .system(error) }
        }
        lock.held = true
        var text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, &text, text.count, 0)
        return lock
    }

    /// The pid the lock file names.
    private func holder() -> Int32? {
        guard let fd = file.number else { return nil }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingWhitespace())
    }

    /// Gives the lock up; later calls do nothing.
    public func release() {
        guard let file = file.take() else { return }
        // The pid goes before the lock does; a waiter's file is not ours to clear.
        if held { _ = ftruncate(file.number, 0) }
        file.close()
    }

    deinit { release() }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
