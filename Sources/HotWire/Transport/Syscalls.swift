#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Every libc call of the transport lives here, one small function each, with
// EINTR retried in one place (the shape of swift-system's Syscalls.swift).

/// A failed system call: which one, and errno's text.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libc function that failed.
    public let call: String
    /// errno as the call left it.
    public let errno: Int32

    /// Captures the current errno for `call`.
    public init(_ call: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        let text = strerror(errno).map { String(cString: $0) } ?? "errno \(errno)"
        return "\(call): \(text)"
    }
}

@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        if errno != EINTR { throw SystemError(call) }
    }
}

func sysSocket(_ domain: Int32, _ type: Int32) throws(SystemError) -> Int32 {
    try retryingEINTR("socket") { socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
}

func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
    try retryingEINTR("read") { read(fd, buffer.baseAddress, buffer.count) }
}

func sysWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int {
    // send with MSG_NOSIGNAL: a peer that went away must be an error, not SIGPIPE.
    try retryingEINTR("send") { send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
}

func sysClose(_ fd: Int32) {
    // close is not retried on EINTR: on Linux the descriptor is gone either way.
    _ = close(fd)
}

func sysShutdown(_ fd: Int32) {
    _ = shutdown(fd, Int32(SHUT_RDWR))
}

func sysConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) {
    _ = try retryingEINTR("connect") { connect(fd, address, length) }
}

func sysBind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) {
    _ = try retryingEINTR("bind") { bind(fd, address, length) }
}

func sysListen(_ fd: Int32, _ backlog: Int32) throws(SystemError) {
    _ = try retryingEINTR("listen") { listen(fd, backlog) }
}

func sysAccept(_ fd: Int32) throws(SystemError) -> Int32 {
    let client = try retryingEINTR("accept") { accept(fd, nil, nil) }
    // accept4 is not visible through Glibc's module; set close-on-exec at once
    // instead, before any spawn could inherit the descriptor.
    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
    return client
}

func sysSetTimeout(_ fd: Int32, option: Int32, milliseconds: Int) throws(SystemError) {
    var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    _ = try retryingEINTR("setsockopt") {
        setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

func sysSetReuseAddress(_ fd: Int32) throws(SystemError) {
    var one: Int32 = 1
    _ = try retryingEINTR("setsockopt") {
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
            try retryingEINTR("getsockname") { getsockname(fd, sa, &length) }
        }
    }
    return UInt16(bigEndian: address.sin_port)
}
