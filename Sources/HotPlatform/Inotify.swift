#if canImport(Glibc)
import Glibc
#endif

/// Linux's inotify(7), as a small owner of one descriptor: folders are
/// watched by descriptor number, and `read` returns the events that came,
/// waiting at most a deadline for the first.
public final class Inotify {
    /// One event: the watch it came from, what happened, and the entry's
    /// name in the watched folder (empty for an event on the folder itself).
    public struct Event: Sendable, Equatable {
        public let watch: Int32
        public let mask: UInt32
        public let cookie: UInt32
        public let name: String

        public init(watch: Int32, mask: UInt32, cookie: UInt32 = 0, name: String) {
            self.watch = watch
            self.mask = mask
            self.cookie = cookie
            self.name = name
        }

        public func has(_ flag: UInt32) -> Bool { mask & flag != 0 }
    }

    /// What a source watcher asks of a folder: an entry written and closed,
    /// made, removed or renamed in or out, and the folder itself gone.
    public static let sourceEvents = UInt32(IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
        | IN_DELETE_SELF | IN_MOVE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_EXCL_UNLINK)

    /// The inotify descriptor, borrowed for a `poll` beside others
    /// (`Subprocess.firstExited(of:alsoWatching:)`).
    public let descriptor: Descriptor
    /// One read's buffer: room for a few hundred events; more stay queued
    /// in the kernel for the next read (its queue is capped by
    /// /proc/sys/fs/inotify/max_queued_events and says so with IN_Q_OVERFLOW).
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    public init() throws(SystemError) {
        descriptor = try Descriptor("inotify_init1") { inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
    }

    /// Watches a folder; the watch's number. Watching a folder twice gives
    /// the same number.
    public func watch(_ path: String, mask: UInt32 = Inotify.sourceEvents) throws(SystemError) -> Int32 {
        try SystemError.retrying("inotify_add_watch \(path)") { inotify_add_watch(descriptor.number, path, mask) }
    }

    /// Stops a watch (its IN_IGNORED event follows).
    public func unwatch(_ watch: Int32) {
        _ = inotify_rm_watch(descriptor.number, watch)
    }

    /// The events that arrived, waiting up to `timeout` for the first
    /// (zero: do not wait). Empty when none came or a signal interrupted
    /// the wait (so that a caller sees its interruption flag).
    public func read(timeout: Duration) throws(SystemError) -> [Event] {
        // Not SystemError.retrying, deliberately: EINTR here is the answer
        // (no events), so that a Ctrl-C caught without SA_RESTART ends the
        // wait and `hot watch` sees its interruption flag at once.
        var poller = pollfd(fd: descriptor.number, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, min(timeout, .seconds(3_600)).pollMilliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw SystemError("poll inotify")
        }
        guard ready > 0 else { return [] }
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor.number, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return [] }
            throw SystemError("read inotify")
        }
        return Self.parse(buffer[0..<count])
    }

    /// The events in what one read returned.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [Event] {
        var events: [Event] = []
        let header = MemoryLayout<inotify_event>.size
        var offset = bytes.startIndex
        while offset + header <= bytes.endIndex {
            let (watch, mask, cookie, length) = bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + (offset - bytes.startIndex)
                return (base.loadUnaligned(as: Int32.self), base.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
                        base.loadUnaligned(fromByteOffset: 8, as: UInt32.self),
                        Int(base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            }
            let nameStart = offset + header
            let nameEnd = min(nameStart + length, bytes.endIndex)
            // The name is padded with NULs to the event's length.
            let name = bytes[nameStart..<nameEnd].prefix { $0 != 0 }
            events.append(Event(watch: watch, mask: mask, cookie: cookie, name: String(decoding: name, as: UTF8.self)))
            offset = nameEnd
        }
        return events
    }
}
