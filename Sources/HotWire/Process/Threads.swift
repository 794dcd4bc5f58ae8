#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached thread running `body`. Threads rather than tasks: a
/// connection blocks in read(2), and a process blocks in receive, and neither
/// may starve the cooperative pool that module code might use.
public func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    // 1 MiB of stack is plenty for a connection and keeps 1,000 of them cheap.
    pthread_attr_setstacksize(&attributes, 1 << 20)
    let result = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
}

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
