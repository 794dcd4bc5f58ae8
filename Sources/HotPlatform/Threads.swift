#if canImport(Glibc)
import Glibc
#endif
import Synchronization

// Threads rather than tasks throughout: a connection blocks in read(2), a
// process blocks in receive, a deploy blocks on a node's answer, and none of
// them may starve the cooperative pool that module code might use.

/// Starts a detached thread running `body`, for work that lives on its own
/// (a connection, a process). Work whose results the caller wants back goes
/// through `concurrentMap`.
public func startThread(_ body: @escaping @Sendable () -> Void) {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    // 1 MiB of stack is plenty for a connection and keeps 1,000 of them cheap.
    pthread_attr_setstacksize(&attributes, 1 << 20)
    let result = pthread_create(&thread, &attributes, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
}

/// Maps `items` through `body` on up to `width` threads, the caller's among
/// them, and returns the results in order once every one is done. The one
/// fan-out of the project: threads take the next item from a shared counter,
/// so a slow item holds up only its own thread, and the caller joins the
/// others rather than polling for them.
public func concurrentMap<T: Sendable, R: Sendable>(
    _ items: [T], width: Int, _ body: @escaping @Sendable (T) -> R
) -> [R] {
    let workers = min(max(1, width), items.count)
    guard workers > 1 else { return items.map(body) }
    let results = Mutex([R?](repeating: nil, count: items.count))
    let next = Atomic<Int>(0)
    let work: @Sendable () -> Void = {
        while true {
            let index = next.add(1, ordering: .relaxed).oldValue
            guard index < items.count else { return }
            let result = body(items[index])
            results.withLock { $0[index] = result }
        }
    }
    // A thread that cannot be started leaves its share to the others.
    let threads = (1..<workers).compactMap { _ in startJoinable(work) }
    work()
    for thread in threads { pthread_join(thread, nil) }
    return results.withLock { $0.map { $0! } }
}

/// How many processors this process may run on.
public func processorCount() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// A joinable thread running `run`, or nil when none could be started.
private func startJoinable(_ run: @escaping @Sendable () -> Void) -> pthread_t? {
    let raw = Unmanaged.passRetained(ThreadBody(run)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, raw)
    guard started == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(raw).release()
        return nil
    }
    return thread
}
