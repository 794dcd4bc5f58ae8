#if canImport(Glibc)
import Glibc
#endif
import CHotPlatform
import Synchronization
import SystemPackage

// Threads rather than tasks throughout: a connection blocks in read(2), a
// process blocks in receive, a deploy blocks on a node's answer, and none of
// them may starve the cooperative pool that module code might use.

/// Lowers the calling thread's priority to `nice` (0 to 19); what it
/// starts afterwards inherits it. Best effort: a failure changes nothing.
public func lowerThreadPriority(nice: Int32) {
    _ = hot_set_thread_nice(nice)
}

/// Starts a detached thread running `body`, for work that lives on its own
/// (a connection, a process). Work whose results the caller wants back goes
/// through `concurrentMap`. Throws when `pthread_create` fails: a container
/// with fewer threads than the node's limits (EAGAIN) is the world, not a
/// bug, so the caller refuses its one piece of work and the node goes on.
public func startThread(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
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
    guard result == 0 else {
        // The thread never ran, so the body it would have taken is freed here.
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        throw SystemError("pthread_create", errno: Errno(rawValue: result))
    }
}

/// Maps `items` through `body` on up to `width` threads and returns the
/// results in order once every one is done. The one fan-out of the project:
/// threads take the next item from a shared counter, so a slow item holds up
/// only its own thread, and the caller blocks on their end rather than
/// polling for it.
public func concurrentMap<T: Sendable, R: Sendable>(
    _ items: [T], width: Int, _ body: @escaping @Sendable (T) -> R
) -> [R] {
    guard min(max(1, width), items.count) > 1 else { return items.map(body) }
    return concurrentMap(items, width: width, timeout: nil, body).map { $0! }
}

/// The same with a deadline: waits at most `timeout` (nil: no bound), and returns
/// nil for each item not done by then. Past the deadline no thread starts
/// another item; one still inside `body` runs on, and its result is dropped.
public func concurrentMap<T: Sendable, R: Sendable>(
    _ items: [T], width: Int, timeout: Duration?, _ body: @escaping @Sendable (T) -> R
) -> [R?] {
    let results = Locked([R?](repeating: nil, count: items.count))
    let next = Atomic<Int>(0)
    let open = Atomic<Bool>(true)
    // Each thread gives one unit back as it ends; the caller takes them.
    let finished = CountingSemaphore(units: 0)
    @Sendable func work() {
        while open.load(ordering: .relaxed) {
            let index = next.add(1, ordering: .relaxed).oldValue
            guard index < items.count else { return }
            let result = body(items[index])
            results.withLock { $0[index] = result }
        }
    }
    var started = 0
    for _ in 0..<min(max(1, width), items.count) {
        do {
            try startThread {
                defer { finished.signal() }
                work()
            }
            started += 1
        } catch {
            // Fewer threads than asked: those that started take every item.
            break
        }
    }
    // Not one thread: the caller does the work itself, deadline or not.
    if started == 0 { work() }
    let deadline = timeout.map { ContinuousClock.now + max(.zero, $0) }
    for _ in 0..<started {
        if !finished.wait(until: deadline) { break }
    }
    open.store(false, ordering: .relaxed)
    return results.withLock { $0 }
}

/// How many processors this process may run on.
public func processorCount() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
