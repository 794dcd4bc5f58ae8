#if canImport(Glibc)
import Glibc
#endif
import CHotPlatform

/// An open file descriptor with one owner. It closes exactly once: by
/// `close()`, which consumes it, or when its owner goes. A descriptor
/// closed is a number the kernel may hand to anyone next; this value cannot
/// be reached after its close, so no read or poll lands on someone else's
/// file (swift-system's `FileDescriptor` is a bare number; NIO's sockets
/// check the same at run time).
public struct Descriptor: ~Copyable {
    /// The number, for a system call made while this value is borrowed.
    public let number: Int32

    /// Takes ownership of `number`, which must be open.
    public init(taking number: Int32) {
        precondition(number >= 0, "not a descriptor: \(number)")
        self.number = number
    }

    /// Takes ownership of what a call returned, or throws the call's error
    /// (`SystemError.retrying` for EINTR).
    public init(_ call: @autoclosure () -> String, _ body: () -> Int32) throws(SystemError) {
        self.init(taking: try SystemError.retrying(call(), body))
    }

    deinit { _ = Glibc.close(number) }

    /// Closes it now (`close(2)`, not retried: on Linux the number is gone
    /// whatever it answers).
    public consuming func close() {
        _ = Glibc.close(number)
        discard self
    }

    /// Waits until it is readable or `timeout` passes (`poll(2)`; nil:
    /// no bound); whether it is.
    public func waitReadable(timeout: Duration?) throws(SystemError) -> Bool {
        var entry = pollfd(fd: number, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map { $0.pollMilliseconds } ?? -1
        return try SystemError.retrying("poll") { poll(&entry, 1, milliseconds) } > 0
    }
}

extension Descriptor {
    /// A pidfd of process `pid` (`pidfd_open(2)`): readable once it has
    /// ended. Throws ESRCH for a process already gone, ENOSYS on a kernel
    /// before 5.3.
    public static func process(_ pid: Int32) throws(SystemError) -> Descriptor {
        try Descriptor("pidfd_open \(pid)") { hot_pidfd_open(pid) }
    }
}

extension Optional where Wrapped == Descriptor {
    /// The number of the descriptor held, if one is: borrowed, not taken.
    public var number: Int32? {
        switch self {
        case .some(let descriptor): descriptor.number
        case .none: nil
        }
    }
}
