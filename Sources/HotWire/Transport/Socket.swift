#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CHotPlatform
import HotPlatform
import Synchronization
import SystemPackage

/// A connected stream socket; the one owner of its descriptor.
public final class Socket: @unchecked Sendable {
    // @unchecked: the descriptor is read, written and closed by the one
    // thread that owns the connection. Another thread may only `shutdown` it
    // to wake that owner: a close from elsewhere could close a descriptor
    // number that the kernel had meanwhile handed to someone else.
    private let fd: Int32
    /// Whether `close` ran: every use after it throws EBADF instead of
    /// reaching a number the kernel may have handed to another file, and a
    /// `shutdown` from another thread takes the same lock as the close.
    private let closed = Locked(false)
    /// What ends whatever holds the other end, for an adopted socket (a
    /// tunnel's: HotDeploy's `SSHTunnel`); run once, after the close.
    private var afterClose: (() -> Void)?
    /// Who is at the other end, as far as the transport tells (accepted sockets).
    public let peer: Peer

    init(fd: Int32, peer: Peer = .unknown) {
        self.fd = fd
        self.peer = peer
    }

    /// Takes ownership of `fd`, one end of a connected socket pair whose
    /// other end something else holds (a child carrying the stream to
    /// another machine); `afterClose` runs once the descriptor is closed,
    /// to end it.
    public init(adopting fd: Int32, afterClose: @escaping () -> Void) {
        self.fd = fd
        self.peer = .unknown
        self.afterClose = afterClose
    }

    deinit {
        if !closed.withLock({ $0 }) { sysClose(fd) }
        runAfterClose()
    }

    /// The descriptor, for the owner's next call; EBADF once closed.
    private func descriptor() throws(SystemError) -> Int32 {
        guard !closed.withLock({ $0 }) else { throw SystemError("socket used after its close", errno: .badFileDescriptor) }
        return fd
    }

    private func runAfterClose() {
        guard let afterClose else { return }
        self.afterClose = nil
        afterClose()
    }

    /// Connects to a node's address (`connect(2)`), with a timeout for TCP.
    /// An ssh address is not a socket of this machine: HotDeploy's
    /// `SSHTunnel` reaches it, and this refuses it.
    public static func connect(to address: NodeAddress) throws(SystemError) -> Socket {
        switch address {
        case .unix(let path):
            let fd = try sysSocket(AF_UNIX, Int32(SOCK_STREAM.rawValue))
            let socket = Socket(fd: fd)
            try withUnixAddress(path) { (sa, len) throws(SystemError) in try sysConnect(fd, sa, len) }
            return socket
        case .tcp(let host, let port):
            let fd = try sysSocket(AF_INET, Int32(SOCK_STREAM.rawValue))
            let socket = Socket(fd: fd)
            sysSetNoDelay(fd)
            try withInetAddress(host, port) { (sa, len) throws(SystemError) in try sysConnect(fd, sa, len) }
            return socket
        case .ssh:
            throw SystemError("an ssh address is reached through a tunnel (HotDeploy's SSHTunnel), not connected to", errno: .invalidArgument)
        }
    }

    /// Reads up to `count` bytes; an empty result means the peer closed.
    public func read(upTo count: Int) throws(SystemError) -> [UInt8] {
        let fd = try descriptor()
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try sysRead(fd, buffer) }
        }.get()
        bytes.removeSubrange(n...)
        return bytes
    }

    /// Writes every byte (`send(2)` in a loop).
    public func write(_ bytes: [UInt8]) throws(SystemError) {
        let fd = try descriptor()
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in
                var offset = 0
                while offset < buffer.count {
                    offset += try sysWrite(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                }
            }
        }.get()
    }

    /// Sets how long a read may block (`SO_RCVTIMEO`); a read past it throws EAGAIN.
    public func setReadTimeout(_ timeout: Duration) throws(SystemError) {
        try sysSetTimeout(descriptor(), option: SO_RCVTIMEO, timeout: timeout)
    }

    /// Sets how long a write may block (`SO_SNDTIMEO`).
    public func setWriteTimeout(_ timeout: Duration) throws(SystemError) {
        try sysSetTimeout(descriptor(), option: SO_SNDTIMEO, timeout: timeout)
    }

    /// Wakes a reader blocked on this socket from another thread (`shutdown(2)`).
    public func shutdown() { closed.withLock { if !$0 { sysShutdown(fd) } } }

    /// Shuts down the reading side only, from any thread: the owner's read
    /// returns end of input, and it can still send (a node compacting tells
    /// each client to reconnect this way).
    public func shutdownReading() { closed.withLock { if !$0 { _ = Glibc.shutdown(fd, Int32(SHUT_RD)) } } }

    /// Closes the descriptor now rather than at deinit.
    public func close() {
        let closing = closed.withLock { (closed: inout Bool) -> Bool in
            guard !closed else { return false }
            closed = true
            sysClose(fd)
            return true
        }
        if closing { runAfterClose() }
    }
}

/// Who connected, as far as the transport can tell: the source a node
/// counts a connection against, so that one source cannot crowd out others.
public enum Peer: Sendable, Hashable, CustomStringConvertible {
    /// A process on this machine (Unix socket, `SO_PEERCRED`).
    case process(uid: UInt32, pid: Int32)
    /// A TCP peer's address (its port is left out: any client picks ports at will).
    case host(String)
    /// The transport does not say.
    case unknown

    public var description: String {
        switch self {
        case .process(let uid, let pid): "uid \(uid) pid \(pid)"
        case .host(let host): host
        case .unknown: "unknown peer"
        }
    }
}

/// A listening socket; the one owner of its descriptor.
public final class Listener: @unchecked Sendable {
    // @unchecked: like `Socket`, the descriptor is accepted on and closed by
    // the one thread that serves the listener; another thread may only
    // `shutdown` it. A close from elsewhere while the serving thread is
    // between two accepts would let its next accept land on whatever the
    // process opened next under that number (in a server that embeds a
    // node, the server's own listening socket).
    // A number, not a `Descriptor`: its close is explicit (`close`, by the
    // serving thread) while `shutdown` reaches it from any thread, so the
    // `closed` flag, not a consumed value, says whether it is still open.
    private let fd: Int32
    /// What it listens on; for TCP port 0, the port the kernel chose.
    public let address: NodeAddress
    private let shutDown = Atomic<Bool>(false)
    private var closed = false
    /// An eventfd that `interruptAccept` writes to, so that the thread
    /// blocked in `accept` returns without the listening socket being
    /// touched; nil when the kernel gave none (then only `shutdown` wakes it).
    private let wake: Descriptor?

    private init(fd: Int32, address: NodeAddress) {
        self.fd = fd
        self.address = address
        let number = hot_wake_fd()
        wake = number >= 0 ? Descriptor(taking: number) : nil
    }

    deinit { close() }

    /// A listening socket this process already has, inherited across an
    /// exec (docs/ARCHITECTURE.md, "Compaction"): checked to be one, and made
    /// close-on-exec again. Connections waiting in its backlog are kept.
    public static func adopt(descriptor: Int32, address: NodeAddress) throws(SystemError) -> Listener {
        var listening: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 else {
            throw SystemError("inherited descriptor \(descriptor) for \(address)")
        }
        guard listening == 1 else {
            throw SystemError("inherited descriptor \(descriptor) for \(address) is not a listening socket", errno: .invalidArgument)
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return Listener(fd: descriptor, address: address)
    }

    /// Lets the descriptor cross an `execve` (clears close-on-exec) and
    /// returns its number; `closeOnExec` undoes it when the exec failed.
    public func keepAcrossExec() -> Int32 {
        _ = fcntl(fd, F_SETFD, 0)
        return fd
    }

    /// Makes the descriptor close-on-exec again.
    public func closeOnExec() {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// Wakes the thread blocked in `accept`, which then throws
    /// `SystemError` with `EAGAIN`; the socket goes on listening, and
    /// connections arriving meanwhile wait in its backlog. From any thread.
    public func interruptAccept() {
        guard let wake = self.wake.number else { return }
        var one: UInt64 = 1
        _ = try? SystemError.retrying("write eventfd") { write(wake, &one, 8) }
    }

    /// Binds and listens (`bind(2)`, `listen(2)`). A stale Unix socket file is
    /// replaced only when nothing answers on it, so a second node cannot steal
    /// a live node's socket.
    public static func listen(on address: NodeAddress, backlog: Int32 = 128) throws(SystemError) -> Listener {
        switch address {
        case .unix(let path):
            if let probe = try? Socket.connect(to: address) {
                probe.close()
                throw SystemError("bind", errno: .addressInUse)
            }
            let fd = try sysSocket(AF_UNIX, Int32(SOCK_STREAM.rawValue))
            do {
                try bindPrivately(fd, at: path)
                try sysListen(fd, backlog)
            } catch {
                sysClose(fd)
                throw error
            }
            return Listener(fd: fd, address: address)
        case .ssh:
            throw SystemError("a node cannot listen on an ssh address", errno: .invalidArgument)
        case .tcp(let host, let port):
            let fd = try sysSocket(AF_INET, Int32(SOCK_STREAM.rawValue))
            do {
                try sysSetReuseAddress(fd)
                try withInetAddress(host, port) { (sa, len) throws(SystemError) in try sysBind(fd, sa, len) }
                try sysListen(fd, backlog)
                let bound = try sysGetsockname(fd)
                return Listener(fd: fd, address: .tcp(host: host, port: bound))
            } catch {
                sysClose(fd)
                throw error
            }
        }
    }

    /// Waits for the next connection (`accept4(2)`).
    public func accept() throws(SystemError) -> Socket {
        let wake = self.wake.number ?? -1
        // poll(2) passes over an entry whose descriptor is negative.
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        _ = try SystemError.retrying("poll") { poll(&fds, 2, -1) }
        if fds[1].revents != 0 && fds[0].revents == 0 {
            var count: UInt64 = 0
            _ = try? SystemError.retrying("read eventfd") { read(wake, &count, 8) }
            throw SystemError("accept interrupted", errno: .resourceTemporarilyUnavailable)
        }
        let client = try sysAccept(fd)
        switch address {
        case .tcp:
            sysSetNoDelay(client)
            return Socket(fd: client, peer: sysPeerHost(client).map { .host($0) } ?? .unknown)
        case .unix:
            return Socket(fd: client, peer: sysPeerCredentials(client).map { .process(uid: $0.uid, pid: $0.pid) } ?? .unknown)
        case .ssh:
            return Socket(fd: client)
        }
    }

    /// Stops listening, from any thread: a thread blocked in `accept`
    /// returns with an error, and so does every later `accept`; a Unix
    /// socket's file is removed. The descriptor stays open until `close`.
    public func shutdown() {
        guard !shutDown.exchange(true, ordering: .sequentiallyConsistent) else { return }
        sysShutdown(fd)
        if case .unix(let path) = address { sysUnlink(path) }
    }

    /// Stops listening and closes the descriptor; only the thread that
    /// accepts on the listener (or its last owner) may call it.
    public func close() {
        shutdown()
        guard !closed else { return }
        closed = true
        sysClose(fd)
    }
}

/// Binds a Unix socket so that its file is mode 0600 from the moment it
/// appears at `path`, whatever the umask: bound inside a fresh 0700 folder
/// beside `path`, made 0600 there, then renamed into place. (chmod after a
/// bind at `path` would leave a window in which another user could connect;
/// changing the umask would race with every other thread's files.)
private func bindPrivately(_ fd: Int32, at path: String) throws(SystemError) {
    var template = Array("\(parentDirectory(path))/.bind-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw SystemError("mkdtemp beside \(path)")
    }
    let folder = String(cString: made)
    let temporary = folder + "/s"
    defer {
        sysUnlink(temporary)
        rmdir(folder)
    }
    try withUnixAddress(temporary) { (sa, len) throws(SystemError) in try sysBind(fd, sa, len) }
    guard chmod(temporary, 0o600) == 0 else { throw SystemError("chmod \(temporary)") }
    // The caller checked that nothing answers at `path`: a file left there is stale.
    guard rename(temporary, path) == 0 else { throw SystemError("rename \(temporary) to \(path)") }
}

private func withUnixAddress<R>(
    _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> R
) throws(SystemError) -> R {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    // The kernel's limit on a socket path (108 bytes with the NUL): say so
    // rather than let a truncated path bind somewhere unexpected.
    guard bytes.count < capacity else { throw SystemError("socket path longer than \(capacity - 1) bytes", errno: .fileNameTooLong) }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return try withUnsafePointer(to: &address) { (p) throws(SystemError) -> R in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) -> R in
            try body(sa, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
}

func withInetAddress<R>(
    _ host: String, _ port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> R
) throws(SystemError) -> R {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    let numeric = host == "localhost" ? "127.0.0.1" : host
    guard inet_pton(AF_INET, numeric, &address.sin_addr) == 1 else {
        throw SystemError("inet_pton(\(host)): not a numeric IPv4 address", errno: .invalidArgument)
    }
    return try withUnsafePointer(to: &address) { (p) throws(SystemError) -> R in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) -> R in
            try body(sa, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
}

/// A word the remote shell passes through unchanged.
