#if canImport(Glibc)
import Glibc
#endif

// The project's two clocks: wall time for what people read (when a version
// was loaded), the monotonic clock for every duration and deadline.

/// Seconds since the epoch.
public func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds on the monotonic clock, for durations and deadlines.
public func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
