import CHotPlatform
import HotPlatform
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Every libc call of the transport lives here, one small function each, with
// EINTR retried in one place, `SystemError.retrying` (the shape of
// swift-system's Syscalls.swift).

func sysSocket(_ domain: Int32, _ type: Int32) throws(SystemError) -> Int32 {
    try SystemError.retrying("socket") { socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
}

func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
    try SystemError.retrying("read") { read(fd, buffer.baseAddress, buffer.count) }
}

func sysWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int {
    // send with MSG_NOSIGNAL: a peer that went away must be an error, not SIGPIPE.
    try SystemError.retrying("send") { send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
}

func sysClose(_ fd: Int32) {
    // close is not retried on EINTR: on Linux the descriptor is gone either way.
    _ = close(fd)
}

func sysShutdown(_ fd: Int32) {
    _ = shutdown(fd, Int32(SHUT_RDWR))
}

func sysConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) {
    // connect(2) is the one call here not asked again after EINTR: POSIX
    // says the handshake then goes on in the kernel and a second connect
    // fails with EALREADY. (Linux's blocking connect, asked again, waits on
    // the same handshake and answers 0 once it finished; ConnectInterrupted
    // Tests shows both ways end connected.) The outcome is read the way a
    // non-blocking connect's is, which holds on every system.
    if connect(fd, address, length) == 0 { return }
    let failure = SystemError("connect")
    switch ConnectStep(afterFailure: failure.errno) {
    case .fail: throw failure
    case .awaitOutcome: try sysAwaitConnection(fd)
    }
}

/// What to do after connect(2) failed with `errno`.
enum ConnectStep: Equatable {
    /// The attempt is over: the error is the answer.
    case fail
    /// The handshake is still under way in the kernel (interrupted by a
    /// signal, or a non-blocking socket): wait until the socket is writable,
    /// then read its `SO_ERROR`.
    case awaitOutcome

    init(afterFailure errno: Errno) {
        switch errno {
        case .interrupted, .nowInProgress: self = .awaitOutcome
        default: self = .fail
        }
    }
}

/// Waits for the outcome of a connect under way on `fd` (`poll(2)` for
/// writability, then `SO_ERROR`). The poll has no bound of its own: the
/// kernel ends a handshake that gets no answer (ETIMEDOUT after its SYN
/// retries), the same bound a blocking connect(2) has.
func sysAwaitConnection(_ fd: Int32) throws(SystemError) {
    var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    _ = try SystemError.retrying("poll") { poll(&entry, 1, -1) }
    var code: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    _ = try SystemError.retrying("getsockopt SO_ERROR") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) }
    if code != 0 { throw SystemError("connect", errno: Errno(rawValue: code)) }
}

func sysBind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) {
    _ = try SystemError.retrying("bind") { bind(fd, address, length) }
}

func sysListen(_ fd: Int32, _ backlog: Int32) throws(SystemError) {
    _ = try SystemError.retrying("listen") { listen(fd, backlog) }
}

func sysAccept(_ fd: Int32) throws(SystemError) -> Int32 {
    // Close-on-exec in the same call: a spawn on another thread must never
    // inherit a client's descriptor (accept4 comes through the C shim, since
    // Glibc's module does not declare it).
    try SystemError.retrying("accept4") { hot_accept_cloexec(fd) }
}

func sysSetTimeout(_ fd: Int32, option: Int32, timeout: Duration) throws(SystemError) {
    // A zero timeval means no timeout at all, so a timeout is at least 1 µs,
    // and a part of a microsecond counts as a whole one.
    let (seconds, attoseconds) = max(timeout, .microseconds(1)).components
    let microseconds = (attoseconds + 999_999_999_999) / 1_000_000_000_000
    var tv = timeval(tv_sec: Int(seconds) + Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
    _ = try SystemError.retrying("setsockopt") {
        setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

func sysSetReuseAddress(_ fd: Int32) throws(SystemError) {
    var one: Int32 = 1
    _ = try SystemError.retrying("setsockopt") {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}

func sysSetNoDelay(_ fd: Int32) {
    // Request and response frames are small; Nagle would hold each one back.
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
}

func sysUnlink(_ path: String) {
    _ = unlink(path)
}

func sysGetsockname(_ fd: Int32) throws(SystemError) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = try withUnsafeMutablePointer(to: &address) { (p) throws(SystemError) -> Int32 in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) -> Int32 in
            try SystemError.retrying("getsockname") { getsockname(fd, sa, &length) }
        }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// The connecting process of a Unix socket (`SO_PEERCRED`), or nil.
func sysPeerCredentials(_ fd: Int32) -> (pid: Int32, uid: UInt32)? {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    guard hot_peer_credentials(fd, &pid, &uid) == 0 else { return nil }
    return (pid, uid)
}

/// The IPv4 address of a TCP socket's peer (`getpeername(2)`), or nil.
func sysPeerHost(_ fd: Int32) -> String? {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let got = withUnsafeMutablePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    guard got == 0 else { return nil }
    var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
    guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
