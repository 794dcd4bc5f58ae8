import HotPlatform
import HotWire

/// Ends, from another thread, the wait of whoever holds it: a watch under
/// way returns at once (its socket is shut down, which wakes its read) and
/// so does every later one, and `pause(for:)` returns early. A follower
/// inside a server's process holds one, so that the node's stop does not
/// wait out the follower's step before it leaves the fleet.
public final class EtcdInterrupt: Sendable {
    private let interrupted = Latch()
    /// The socket of the watch under way, if any.
    private let watching = Locked<Socket?>(nil)

    /// An interrupt not yet given.
    public init() {}

    /// Ends the watch under way and every later wait.
    public func interrupt() {
        interrupted.open()
        watching.withLock { $0?.shutdown() }
    }

    /// Whether `interrupt` was called.
    public var isInterrupted: Bool { interrupted.isOpen }

    /// Waits `duration`, or until `interrupt`.
    public func pause(for duration: Duration) { _ = interrupted.wait(until: .now + duration) }

    /// Makes `socket` the watch's, or none; a socket given after `interrupt` is shut down at once.
    func watch(on socket: Socket?) {
        watching.withLock { current in
            current = socket
            if interrupted.isOpen { socket?.shutdown() }
        }
    }
}
