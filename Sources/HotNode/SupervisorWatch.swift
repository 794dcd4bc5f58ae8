#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotWire
import Logging

/// A supervised node's eye on its supervisor (docs/ARCHITECTURE.md,
/// "Supervision"). A supervisor killed with SIGKILL cannot tell its node,
/// and the node must not die with it (it serves, and `hot stop` stops it
/// cleanly); so the node holds a pidfd of its supervisor, a thread waits
/// for it to become readable, and from then on `status` says the node runs
/// unsupervised and `hot start` refuses to start another beside it.
final class SupervisorWatch: Sendable {
    private let death = Locked<StatusReply.Unsupervised?>(nil)

    /// What `status` reports: nil while the supervisor lives.
    var unsupervised: StatusReply.Unsupervised? { death.withLock { $0 } }

    /// Watches the supervisor `Supervisor.pidVariable` names; nil for a
    /// node nobody supervises (`hot start --foreground`, a host, a test).
    static func start(logger: Logger) -> SupervisorWatch? {
        guard let value = getenv(Supervisor.pidVariable), let pid = Int32(String(cString: value)), pid > 1 else { return nil }
        let watch = SupervisorWatch()
        do { try startThread { watch.watch(pid, logger) } } catch {
            logger.warning("no thread to watch the supervisor (pid \(pid)): \(error)")
        }
        return watch
    }

    /// The watching thread's work.
    private func watch(_ pid: Int32, _ logger: Logger) {
        // pidfd_open first, then the parent check: a supervisor that died
        // before the open either fails the open (ESRCH) or, its number
        // reused, is no longer this process's parent.
        let supervisor: Descriptor
        do { supervisor = try Descriptor.process(pid) } catch {
            if error.errno == .noSuchProcess { record(pid, logger) } else {
                logger.warning("cannot watch the supervisor (pid \(pid)): \(error)")
            }
            return
        }
        guard getppid() == pid else {
            record(pid, logger)
            return
        }
        // No deadline: the supervisor's end is the event, and it may never
        // come. A failed poll says nothing of it, so nothing is recorded.
        let ended = (try? supervisor.waitReadable(timeout: nil)) == true
        supervisor.close()
        if ended { record(pid, logger) }
    }

    private func record(_ pid: Int32, _ logger: Logger) {
        death.withLock { $0 = StatusReply.Unsupervised(supervisorPid: Int(pid), diedAt: now()) }
        logger.error("the supervisor (pid \(pid)) died: this node runs unsupervised and will not be restarted; restart it with `hot stop && hot start`")
    }
}
