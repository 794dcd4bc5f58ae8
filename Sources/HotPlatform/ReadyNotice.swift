#if canImport(Glibc)
import Glibc
#endif

/// How a process started in the background tells the one that started it
/// that it serves, as systemd's `sd_notify` does through `NOTIFY_SOCKET`:
/// the starter passes one end of a socket pair as a descriptor whose number
/// `HOT_READY_FD` names; the started process writes `ready` and a newline
/// on it once it serves, then closes it. The starter reads the line, or the
/// end of the socket without it when every holder of the other end is gone
/// (docs/ARCHITECTURE.md, "Waiting").
///
/// A socket, not a pipe: a line sent after the starter stopped reading fails
/// with EPIPE instead of raising SIGPIPE in a server that does not ignore it.
public enum ReadyNotice {
    /// The environment variable naming the descriptor to write the line on.
    public static let variable = "HOT_READY_FD"
    /// What the started process writes once it serves.
    static let line = "ready\n"

    /// The starter's ends of a new socket pair, both close-on-exec: it keeps
    /// `readEnd`, and passes `writeEnd` to the child (`Subprocess.spawn`'s
    /// `passing`) and closes its own copy once the child has it
    /// (`keepingReadEnd`).
    public struct Channel: ~Copyable {
        /// The end the starter waits on.
        public let readEnd: Descriptor
        /// The end the started process writes on.
        public let writeEnd: Descriptor

        /// A new socket pair.
        public init() throws(SystemError) {
            var fds: [Int32] = [0, 0]
            _ = try SystemError.retrying("socketpair") {
                socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
            }
            readEnd = Descriptor(taking: fds[0])
            writeEnd = Descriptor(taking: fds[1])
        }

        /// Closes the write end, once the child has its copy, and returns
        /// the read end: the socket then ends when the child's copy closes.
        public consuming func keepingReadEnd() -> Descriptor {
            let write = writeEnd
            write.close()
            return readEnd
        }
    }

    /// What waiting on a channel's read end came to.
    public enum Outcome: Equatable, Sendable {
        /// The line came: the started process serves.
        case ready
        /// Every write end closed without the line: the process meant to
        /// send it ended (or gave it away) before it served.
        case closed
        /// `process` ended first.
        case exited
        /// The deadline passed first.
        case timedOut
    }

    /// Waits on `readEnd` for the line, and on `process` (a pidfd, when
    /// there is one) for its end, until `deadline`.
    public static func wait(
        on readEnd: borrowing Descriptor, orEndOf process: borrowing Descriptor?, until deadline: ContinuousClock.Instant
    ) -> Outcome {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64)
        while true {
            let remaining = deadline.timeLeft
            guard remaining > .zero else { return .timedOut }
            var fds = [pollfd(fd: readEnd.number, events: Int16(POLLIN), revents: 0)]
            if let pid = process.number { fds.append(pollfd(fd: pid, events: Int16(POLLIN), revents: 0)) }
            guard let n = try? SystemError.retrying("poll", { poll(&fds, nfds_t(fds.count), max(1, remaining.pollMilliseconds)) }) else {
                return .closed
            }
            if n == 0 { continue }
            if fds[0].revents != 0 {
                let count = (try? SystemError.retrying("read") { chunk.withUnsafeMutableBytes { read(readEnd.number, $0.baseAddress, $0.count) } }) ?? 0
                if count == 0 { return .closed }
                received += chunk[0..<count]
                if received.contains(UInt8(ascii: "\n")) {
                    return received.starts(with: Array(line.utf8)) ? .ready : .closed
                }
                // Bounded: the line is six bytes; anything longer is not it.
                if received.count > line.utf8.count { return .closed }
                continue
            }
            if fds.count > 1, fds[1].revents != 0 { return .exited }
        }
    }

    /// Takes the descriptor `HOT_READY_FD` names, if this process was given
    /// one: makes it close-on-exec and removes the variable, so that nothing
    /// this process starts or re-executes into writes a second line.
    public static func take() -> Descriptor? {
        guard let text = getenv(variable).map({ String(cString: $0) }) else { return nil }
        unsetenv(variable)
        guard let number = Int32(text), number > 2, fcntl(number, F_SETFD, FD_CLOEXEC) == 0 else { return nil }
        return Descriptor(taking: number)
    }

    /// Writes the line on `descriptor` and closes it. A starter that stopped
    /// waiting is no failure of the sender: the error is dropped.
    public static func send(_ descriptor: consuming Descriptor) {
        let bytes = Array(line.utf8)
        _ = try? SystemError.retrying("send") {
            bytes.withUnsafeBytes { Glibc.send(descriptor.number, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        descriptor.close()
    }
}
