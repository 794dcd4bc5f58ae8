#if canImport(Glibc)
import Glibc
#endif

// Time in the project is `Duration` for how long and `ContinuousClock.Instant`
// for until when (docs/ARCHITECTURE.md, "Waiting"). What remains of
// `Double` seconds is what crosses a boundary in that form: the wire's
// documents, and the figures a person types on a command line.

extension Duration {
    /// The duration in seconds, for a document or a message that carries
    /// seconds as a number.
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration as messages give it: `250 ms`, `1.5 s`, `60 s`.
    public var shortDescription: String {
        let milliseconds = (inSeconds * 1000).rounded()
        if milliseconds < 1000 { return "\(Int(milliseconds)) ms" }
        let tenths = (milliseconds / 100).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10)) s" : "\(tenths / 10) s"
    }

    /// Whole milliseconds, rounded up: what `poll(2)` takes (0 for a
    /// duration already past, at most `Int32.max`).
    public var pollMilliseconds: Int32 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}

extension ContinuousClock.Instant {
    /// The time left until this instant, never negative.
    public var timeLeft: Duration { max(.zero, self - .now) }
}

/// Lets `duration` pass (`nanosleep`, resumed after a signal): for a wait
/// that no event can end sooner, whose caller says why beside the call.
public func pause(for duration: Duration) {
    guard duration > .zero else { return }
    let (seconds, attoseconds) = duration.components
    var request = timespec(tv_sec: Int(clamping: seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    // After a signal, sleep on for what nanosleep says was left. Nothing but
    // EINTR can fail here (the timespec is valid), so the error is dropped.
    _ = try? SystemError.retrying("nanosleep") {
        let result = nanosleep(&request, &remaining)
        request = remaining
        return result
    }
}
