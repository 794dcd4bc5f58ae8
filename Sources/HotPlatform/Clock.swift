#if canImport(Glibc)
import Glibc
#endif

// Wall time for what people read (when a version was loaded). Durations and
// deadlines are `Duration` and `ContinuousClock` instants
// (docs/ARCHITECTURE.md, "Waiting").

/// Seconds since the epoch.
public func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds on CLOCK_MONOTONIC, for a moment that must outlive the process
/// image: a compaction notes when it paused in the hand-off it carries
/// across its exec, and the clock counts on across it.
public func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// `2026-11-27 10:04:17Z` for seconds since the epoch.
public func utcTime(_ seconds: Double) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    var buffer = [CChar](repeating: 0, count: 32)
    let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%SZ", &parts)
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
