#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINT and SIGTERM during a build: noted, not fatal, so that the builder
/// can stop its compilers and remove their half-written files first.
struct Interruption {
    private static let flag = Atomic<Bool>(false)
    /// Installs not yet undone: `hot watch` installs for its whole run and
    /// each build inside it installs again; only the outermost clears the
    /// flag, so a Ctrl-C that came just before a build is not forgotten.
    private static let depth = Atomic<Int>(0)
    private var previous: [Int32: sigaction] = [:]

    /// Whether a signal arrived since `install`.
    static var happened: Bool { flag.load(ordering: .relaxed) }

    /// Catches SIGINT and SIGTERM without SA_RESTART, so that a blocked
    /// wait for a compiler returns EINTR and the build loop sees the flag at once.
    static func install() -> Interruption {
        if depth.add(1, ordering: .relaxed).oldValue == 0 { flag.store(false, ordering: .relaxed) }
        var saved = Interruption()
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in Interruption.flag.store(true, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            var old = sigaction()
            sigaction(signal, &action, &old)
            saved.previous[signal] = old
        }
        // A parent may have started us with these signals blocked (a test
        // runner's thread does): unblock them, or Ctrl-C would never arrive.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        return saved
    }

    /// Puts back the handlers that were there before.
    func uninstall() {
        Self.depth.subtract(1, ordering: .relaxed)
        for (signal, old) in previous {
            var action = old
            sigaction(signal, &action, nil)
        }
    }
}
