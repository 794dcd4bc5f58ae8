#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Runs `body(0)` to `body(count - 1)` at once, one thread each (the caller's
/// among them), and returns their results in order.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    guard count > 1 else { return count == 1 ? [body(0)] : [] }
    let results = Results<T>(count)
    var threads: [pthread_t] = []
    for i in 1..<count {
        if let thread = startJoinable({ results.set(i, body(i)) }) {
            threads.append(thread)
        } else {
            results.set(i, body(i))  // no thread to spare: run it here
        }
    }
    results.set(0, body(0))
    for thread in threads { pthread_join(thread, nil) }
    return results.values
}

private final class Results<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    init(_ count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ value: T) { slots.withLock { $0[i] = value } }
    var values: [T] { slots.withLock { $0.map { $0! } } }
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

/// How many processors this process may run on.
@usableFromInline
func processorCount() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
