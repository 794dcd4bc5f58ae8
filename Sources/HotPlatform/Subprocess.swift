import CHotPlatform
#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A child process started with posix_spawn: no fork of a large parent, no
/// shell, arguments passed as they are.
///
/// The child inherits standard input, output and error and nothing else: the
/// spawn closes every other descriptor in the child alone
/// (`posix_spawn_file_actions_addclosefrom_np`), so this process never changes
/// flags on descriptors it does not own. One more may be passed on purpose
/// (`passing`): the child finds it as `passedDescriptor`. Every wait names
/// this child's pid or pidfd, never `-1`: a library must not reap children it did not start.
public final class Subprocess: @unchecked Sendable {
    // @unchecked: `pid` and the descriptors are set once at spawn; `wait` is
    // called by one thread.
    /// The child's process id.
    public let pid: pid_t
    /// The read end of the pipe on the child's output (`Output.capture`).
    private let output: Descriptor?
    /// This process's end of the socket on the child's standard input (`Input.socket`).
    private let input: Descriptor?
    /// pidfd_open(2) of the child: readable once it has ended, for `firstExited`.
    /// Nil on a kernel before 5.3.
    private let pidDescriptor: Descriptor?
    // The descriptors close with this object, and not before: these
    // numbers are good for as long as it lives.
    private var outputFD: Int32? { output.number }
    private var inputFD: Int32? { input.number }
    private var pidFD: Int32 { pidDescriptor.number ?? -1 }

    private init(pid: pid_t, outputFD: Int32?, inputFD: Int32?, pidFD: Int32) {
        self.pid = pid
        self.output = if let outputFD { Descriptor(taking: outputFD) } else { nil }
        self.input = if let inputFD { Descriptor(taking: inputFD) } else { nil }
        self.pidDescriptor = pidFD >= 0 ? Descriptor(taking: pidFD) : nil
    }

    /// What the child reads on standard input.
    public enum Input: Sendable {
        /// This process's standard input (or what `Output.stdio` and
        /// `Output.file` put there).
        case inherit
        /// One end of a Unix socket pair whose other end this process keeps
        /// (`send`, `receiveLine`, `shutdownInput`). A socket, not a pipe: a
        /// send to a child that has died fails with EPIPE instead of raising
        /// SIGPIPE in a process that may not ignore it; and the child gets
        /// end of input when this process ends, however it ends.
        case socket
    }

    /// How the child's standard output and error are wired.
    public enum Output: Sendable {
        /// Both into a pipe, read back by `waitCapturing`.
        case capture
        /// Both appended to a file.
        case file(String)
        /// Both shared with this process.
        case inherit
        /// Standard input and output on this descriptor (one end of a socket
        /// pair); standard error shared with this process.
        case stdio(Int32)
    }

    /// The number a descriptor given as `passing` has in the child.
    public static let passedDescriptor: Int32 = 3

    /// Spawns `executable` with `arguments` (argv[0] excluded). With
    /// `newSession`, the child leads a session of its own (`setsid`), so the
    /// terminal's Ctrl-C and the parent's exit do not reach it.
    public static func spawn(
        _ executable: String, _ arguments: [String], output: Output = .capture, input: Input = .inherit,
        newSession: Bool = false, environment: [String]? = nil
    ) throws(SystemError) -> Subprocess {
        try spawn(executable, arguments, output: output, input: input, newSession: newSession, environment: environment, passingNumber: nil)
    }

    /// The same, and the child gets `passing` as `passedDescriptor`, open
    /// across its exec (`ReadyNotice`'s socket); the caller keeps its own.
    public static func spawn(
        _ executable: String, _ arguments: [String], output: Output = .capture, input: Input = .inherit,
        newSession: Bool = false, environment: [String]? = nil, passing: borrowing Descriptor
    ) throws(SystemError) -> Subprocess {
        try spawn(
            executable, arguments, output: output, input: input, newSession: newSession, environment: environment,
            passingNumber: passing.number)
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], output: Output, input: Input,
        newSession: Bool, environment: [String]?, passingNumber passing: Int32?
    ) throws(SystemError) -> Subprocess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // The child starts with default signal handling and nothing blocked,
        // whatever this process did with SIGINT or SIGPIPE.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        // POSIX_SPAWN_SETSID (glibc 2.26) is not exported to Swift; its value is fixed by the ABI.
        if newSession { flags |= 0x80 }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var readEnd: Int32? = nil
        // The ends the child gets, closed here once it has them.
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        switch output {
        case .capture:
            // Close-on-exec from the moment the pipe exists: another thread's
            // child spawned meanwhile must not hold its write end open.
            var fds: [Int32] = [0, 0]
            guard hot_pipe_cloexec(&fds) == 0 else { throw SystemError("pipe2") }
            readEnd = fds[0]
            childEnds.append(fds[1])
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit:
            break
        case .stdio(let fd):
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
        }
        var inputFD: Int32? = nil
        if case .socket = input {
            // Close-on-exec in the same call, for the same reason as the pipe.
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                if let readEnd { close(readEnd) }
                throw SystemError("socketpair")
            }
            inputFD = fds[0]
            childEnds.append(fds[1])
            posix_spawn_file_actions_adddup2(&actions, fds[1], 0)
        }
        var passed = passing
        if let fd = passing, fd == passedDescriptor {
            // dup2 onto itself would leave it close-on-exec: pass a copy.
            let copy: Int32
            do { copy = try SystemError.retrying("fcntl F_DUPFD_CLOEXEC") { fcntl(fd, F_DUPFD_CLOEXEC, passedDescriptor + 1) } } catch {
                if let readEnd { close(readEnd) }
                if let inputFD { close(inputFD) }
                throw error
            }
            childEnds.append(copy)
            passed = copy
        }
        // After the dup2s onto 0, 1 and 2, so that none of those sources is lost.
        if let passed { posix_spawn_file_actions_adddup2(&actions, passed, passedDescriptor) }
        do {
            return try launch(executable, arguments, &actions, &attributes, environment, readEnd, inputFD, closeFrom: passed == nil ? 3 : passedDescriptor + 1)
        } catch {
            if let readEnd { close(readEnd) }
            if let inputFD { close(inputFD) }
            throw error
        }
    }

    private static func launch(
        _ executable: String, _ arguments: [String], _ actions: inout posix_spawn_file_actions_t,
        _ attributes: inout posix_spawnattr_t, _ environment: [String]?, _ readEnd: Int32?, _ inputFD: Int32?, closeFrom: Int32
    ) throws(SystemError) -> Subprocess {
        // Last of the actions: after the dup2s above, everything from 3 (or
        // past the passed descriptor) up goes.
        hot_spawn_addclosefrom(&actions, closeFrom)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let env = (environment ?? currentEnvironment()).map { strdup($0) } + [nil]
        defer { for p in env { free(p) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        guard result == 0 else {
            throw SystemError("posix_spawn \(executable)", errno: Errno(rawValue: result))
        }
        return Subprocess(pid: pid, outputFD: readEnd, inputFD: inputFD, pidFD: hot_pidfd_open(pid))
    }

    /// Writes `bytes` to the child's standard input (`Input.socket`); throws
    /// when the child has closed it or ended (EPIPE), without a SIGPIPE.
    public func send(_ bytes: [UInt8]) throws(SystemError) {
        guard let inputFD else { throw SystemError("send: the child's input is not a socket", errno: .badFileDescriptor) }
        var offset = 0
        while offset < bytes.count {
            offset += try SystemError.retrying("send") {
                bytes.withUnsafeBytes { Glibc.send(inputFD, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    /// Reads one line the child wrote back on its standard input socket
    /// (`Input.socket`), without its newline; nil at the end of the socket,
    /// past `limit` bytes, or when `timeout` passes first. Reads a byte
    /// at a time, so nothing after the line is taken from the socket.
    public func receiveLine(limit: Int, timeout: Duration) -> String? {
        guard let inputFD else { return nil }
        let deadline = ContinuousClock.now + timeout
        var line: [UInt8] = []
        while line.count <= limit {
            let remaining = deadline.timeLeft
            guard remaining > .zero else { return nil }
            var entry = pollfd(fd: inputFD, events: Int16(POLLIN), revents: 0)
            guard let ready = try? SystemError.retrying("poll", { poll(&entry, 1, max(1, remaining.pollMilliseconds)) }) else { return nil }
            guard ready > 0 else { continue }
            var byte: UInt8 = 0
            let n: Int
            do { n = try SystemError.retrying("read") { read(inputFD, &byte, 1) } } catch {
                if error.errno == .resourceTemporarilyUnavailable { continue }
                return nil
            }
            if n == 0 { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }

    /// Ends this process's writing to the child's standard input socket: the
    /// child reads end of input. The descriptor itself closes with this object.
    public func shutdownInput() {
        if let inputFD { shutdown(inputFD, Int32(SHUT_WR)) }
    }

    /// What `waitCapturing(limit:timeout:)` saw.
    public struct Capture: Sendable {
        /// The exit status (128 + signal when killed); for a child killed at
        /// the deadline, 128 + SIGKILL.
        public let status: Int32
        /// The first `limit` bytes of the output.
        public let output: String
        /// Whether the child wrote more than `limit` bytes (the rest was read and dropped).
        public let truncated: Bool
        /// Whether the deadline passed and the child was killed.
        public let timedOut: Bool
    }

    /// Reads the child's output until it ends or `timeout` passes,
    /// keeping the first `limit` bytes and reading and dropping the rest, so
    /// that a chatty child never blocks on a full pipe and never fills this
    /// process's memory. A child still running at the deadline is killed
    /// (SIGKILL) and reaped. Polls the pipe and the pidfd (poll(2)): a
    /// grandchild that inherited the pipe cannot hold the wait open past the
    /// child's end.
    /// The only way to read a child's output: every caller names its bound.
    public func waitCapturing(limit: Int, timeout: Duration) -> Capture {
        let deadline = ContinuousClock.now + timeout
        var output: [UInt8] = []
        var truncated = false
        var pipeOpen = outputFD != nil
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        /// Reads what the pipe holds now; false at its end.
        func drain(_ fd: Int32) -> Bool {
            let n: Int
            do { n = try SystemError.retrying("read") { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } } } catch {
                return error.errno == .resourceTemporarilyUnavailable
            }
            if n == 0 { return false }
            let room = max(0, limit - output.count)
            if n > room { truncated = true }
            output.append(contentsOf: chunk[0..<min(n, room)])
            return true
        }
        var exited = false
        while !exited {
            let remaining = deadline.timeLeft
            if remaining <= .zero {
                signal(SIGKILL)
                let status = wait()
                return Capture(status: status, output: String(decoding: output, as: UTF8.self), truncated: truncated, timedOut: true)
            }
            var fds: [pollfd] = []
            if pipeOpen, let outputFD { fds.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
            if pidFD >= 0 { fds.append(pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)) }
            // Without a pidfd (a kernel before 5.3), look at the child every
            // `childCheckInterval`: no event tells of its end.
            let slice = pidFD >= 0 ? remaining : min(remaining, childCheckInterval)
            if fds.isEmpty {
                // No event to wait on: the pipe is closed and a kernel before
                // 5.3 gives no descriptor for the child's end, so the clock it is.
                pause(for: slice)
            } else if (try? SystemError.retrying("poll", { poll(&fds, nfds_t(fds.count), max(1, slice.pollMilliseconds)) })) == nil {
                break
            }
            if pipeOpen, let outputFD, let entry = fds.first, entry.fd == outputFD, entry.revents != 0 {
                pipeOpen = drain(outputFD)
            }
            exited = pidFD >= 0 ? fds.last.map { $0.fd == pidFD && $0.revents != 0 } ?? false : hasExited()
        }
        // The child has ended: take what its pipe still holds, without
        // waiting for a grandchild that may keep the write end open.
        if pipeOpen, let outputFD {
            var entry = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
            while ContinuousClock.now < deadline, (try? SystemError.retrying("poll", { poll(&entry, 1, 0) })) ?? 0 > 0, drain(outputFD) {
                entry.revents = 0
            }
        }
        return Capture(status: wait(), output: String(decoding: output, as: UTF8.self), truncated: truncated, timedOut: false)
    }

    /// Waits for the child to end and reaps it; its exit status, or 128 +
    /// the signal that killed it.
    public func wait() -> Int32 {
        var status: Int32 = 0
        guard (try? SystemError.retrying("waitpid", { waitpid(pid, &status, 0) })) != nil else { return -1 }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Whether the child has ended, without blocking and without reaping it
    /// (`waitid` with `WNOWAIT`), so that `wait` still reads its status.
    public func hasExited() -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return false }
        return info._sifields._sigchld.si_pid == pid
    }

    /// Sends a signal to the child.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Blocks until one of `children` has ended and returns it, not yet
    /// reaped (call `wait`); nil when a signal interrupted the wait, so that a
    /// caller can look at its own flags. Polls the children's pidfds, so no
    /// other child of this process is touched.
    /// With `alsoWatching`, returns nil as well when that descriptor becomes
    /// readable (`hot watch`'s inotify descriptor: newer sources came).
    public static func firstExited(of children: [Subprocess], alsoWatching other: borrowing Descriptor) throws(SystemError) -> Subprocess? {
        try firstExited(of: children, alsoWatchingNumber: other.number)
    }

    /// The same without another descriptor: nil only for a signal.
    public static func firstExited(of children: [Subprocess]) throws(SystemError) -> Subprocess? {
        try firstExited(of: children, alsoWatchingNumber: nil)
    }

    private static func firstExited(of children: [Subprocess], alsoWatchingNumber other: Int32?) throws(SystemError) -> Subprocess? {
        precondition(!children.isEmpty, "firstExited needs a child to wait for")
        // Not SystemError.retrying, deliberately: EINTR returns nil, so that a
        // build's SIGINT or SIGTERM (caught without SA_RESTART, HotBuild's
        // Interruption) ends the wait and the builder stops its compilers.
        var fds = children.map { pollfd(fd: $0.pidFD, events: Int16(POLLIN), revents: 0) }
        if let other { fds.append(pollfd(fd: other, events: Int16(POLLIN), revents: 0)) }
        guard children.allSatisfy({ $0.pidFD >= 0 }) else {
            // No pidfd (a kernel before 5.3): wait for the first child alone,
            // leaving it to be reaped by `wait`.
            var info = siginfo_t()
            if waitid(P_PID, id_t(children[0].pid), &info, WEXITED | WNOWAIT) < 0 {
                if errno == EINTR { return nil }
                throw SystemError("waitid")
            }
            return children[0]
        }
        let n = poll(&fds, nfds_t(fds.count), -1)
        if n < 0 {
            if errno == EINTR { return nil }
            throw SystemError("poll")
        }
        guard let index = fds.prefix(children.count).firstIndex(where: { $0.revents != 0 }) else { return nil }
        return children[index]
    }
}

/// This process's environment as `KEY=VALUE` strings.
public func currentEnvironment() -> [String] {
    var result: [String] = []
    var p = Glibc.environ
    while let entry = p.pointee {
        result.append(String(cString: entry))
        p += 1
    }
    return result
}

/// Finds an executable on PATH, or nil.
public func findExecutable(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") where !dir.isEmpty {
        let candidate = "\(dir)/\(name)"
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}

/// How often `waitCapturing` looks at a child it has no pidfd for (a kernel
/// before 5.3).
private let childCheckInterval: Duration = .milliseconds(50)
