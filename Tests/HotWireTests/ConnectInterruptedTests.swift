import Glibc
import HotPlatform
import Synchronization
import Testing

@testable import HotWire

/// A TCP listener on 127.0.0.1 whose accept queue is full, so that the next
/// connect(2) to it waits in the kernel for a SYN to be answered.
private struct FullListener: ~Copyable {
    let listener: Descriptor
    let port: UInt16
    /// The connections that filled the queue, and the one left waiting.
    var clients: [Int32] = []

    init() throws {
        let socket = try Descriptor("socket") { Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let fd = socket.number
        _ = try withUnsafePointer(to: &address) { (p) throws(SystemError) -> Int32 in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) -> Int32 in
                try SystemError.retrying("bind") { bind(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        // A backlog of 0 holds one finished connection; the kernel drops the
        // SYN of every one after it until the queue is accepted from.
        _ = try SystemError.retrying("listen") { listen(fd, 0) }
        port = try sysGetsockname(fd)
        listener = socket
    }

    /// Connects without waiting until a connection stays pending.
    mutating func fill() throws {
        let port = port
        for _ in 0..<16 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            clients.append(client)
            try withInetAddress("127.0.0.1", port) { (sa, length) throws(SystemError) in _ = connect(client, sa, length) }
            var entry = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
            if poll(&entry, 1, 200) == 0 { return }
        }
        throw SystemError("no connect to a listener with a full queue stayed pending", errno: .resourceTemporarilyUnavailable)
    }

    /// Accepts what is queued, so that the kernel answers the next SYN.
    func drain() {
        var entry = pollfd(fd: listener.number, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, 0) > 0 {
            let accepted = accept(listener.number, nil, nil)
            guard accepted >= 0 else { return }
            close(accepted)
        }
    }

    deinit { for client in clients { close(client) } }
}

/// How long the signal handler holds the connecting thread: past the
/// kernel's SYN retries at 1 s and 3 s, so that the handshake has finished
/// by the time connect(2)'s EINTR reaches the caller.
private let handlerNap: Int = 4
/// How many times the handler ran.
private let handled = Atomic<Int>(0)

@Suite("connect(2) interrupted by a signal")
struct ConnectInterruptedTests {
    @Test("a connect interrupted by a signal, whose handshake finished meanwhile, ends connected")
    func interruptedConnectSucceeds() throws {
        // A handler without SA_RESTART: connect(2) returns EINTR. It sleeps
        // (nanosleep is async-signal-safe) while the listener accepts, so
        // that a connect asked again would find the socket connected.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            handled.add(1, ordering: .relaxed)
            var nap = timespec(tv_sec: handlerNap, tv_nsec: 0)
            nanosleep(&nap, nil)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var previous = sigaction()
        sigaction(SIGURG, &action, &previous)
        defer { sigaction(SIGURG, &previous, nil) }
        let handledBefore = handled.load(ordering: .relaxed)

        var listener = try FullListener()
        try listener.fill()
        let port = listener.port
        let thread = Atomic<UInt>(0)
        let outcome = Mutex<Result<Void, SystemError>?>(nil)
        let connector = try Descriptor("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let fd = connector.number
        // The connecting thread lives until the test is done with it: a
        // signal sent to a thread that has ended would reach a freed one.
        let released = Latch()
        defer { released.open() }
        try startThread {
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGURG)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            thread.store(UInt(pthread_self()), ordering: .releasing)
            let result = Result { () throws(SystemError) in
                try withInetAddress("127.0.0.1", port) { (sa, length) throws(SystemError) in try sysConnect(fd, sa, length) }
            }
            outcome.withLock { $0 = result }
            _ = released.wait(until: .now + .seconds(30))
        }
        let start = ContinuousClock.now
        while thread.load(ordering: .acquiring) == 0 && ContinuousClock.now - start < .seconds(10) { pause(for: .milliseconds(1)) }
        // The SYN is dropped (the queue is full): the connect is blocked in
        // the kernel 300 ms on.
        pause(for: .milliseconds(300))
        #expect(outcome.withLock { $0 == nil }, "the connect ended before the signal")
        pthread_kill(pthread_t(thread.load(ordering: .acquiring)), SIGURG)
        // Accepted from until the end: the queue's other waiting connection,
        // answered first, would fill it again.
        while outcome.withLock({ $0 == nil }) && ContinuousClock.now - start < .seconds(15) {
            listener.drain()
            pause(for: .milliseconds(20))
        }
        released.open()
        let result = try #require(outcome.withLock { $0 }, "the connect did not end within 15 s")
        #expect(handled.load(ordering: .relaxed) == handledBefore + 1)
        #expect(throws: Never.self) { try result.get() }
    }

    @Test("EINTR and EINPROGRESS wait for the handshake's outcome; any other error is the answer")
    func decision() {
        #expect(ConnectStep(afterFailure: .interrupted) == .awaitOutcome)
        #expect(ConnectStep(afterFailure: .nowInProgress) == .awaitOutcome)
        #expect(ConnectStep(afterFailure: .connectionRefused) == .fail)
        #expect(ConnectStep(afterFailure: .alreadyInProcess) == .fail)
        #expect(ConnectStep(afterFailure: .socketIsConnected) == .fail)
    }
}
