#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Testing

/// Spawning touches only what it owns: the child inherits no descriptor but
/// 0, 1 and 2, and every wait names a child the caller started.
@Suite struct SubprocessTests {
    @Test func childInheritsNoDescriptorBeyondStandardOnes() throws {
        // A descriptor without close-on-exec, as a test runner's pipe would be.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(fcntl(fds[1], F_GETFD) & FD_CLOEXEC == 0)
        let child = try Subprocess.spawn("/bin/sh", ["-c", "ls /proc/self/fd"])
        let capture = child.waitCapturing(limit: 1 << 20, timeout: .seconds(20))
        let (status, output) = (capture.status, capture.output)
        #expect(status == 0)
        let open = output.split(separator: "\n").compactMap { Int32($0) }
        // 0, 1, 2, and the descriptor `ls` opens on /proc/self/fd itself.
        #expect(!open.contains(fds[1]), "the child inherited \(fds[1]): \(open)")
        #expect(open.filter { $0 > 2 }.count <= 1, "\(open)")
        // The parent's descriptor keeps its flags: nothing walked and changed them.
        #expect(fcntl(fds[1], F_GETFD) & FD_CLOEXEC == 0)
    }

    @Test func firstExitedLeavesOtherChildrenAlone() throws {
        let mine = try Subprocess.spawn("/bin/sh", ["-c", "exit 7"], output: .inherit)
        let slow = try Subprocess.spawn("/bin/sh", ["-c", "sleep 0.3; exit 3"], output: .inherit)
        // A child of this process that the waiter was not given.
        let stranger = try Subprocess.spawn("/bin/sh", ["-c", "exit 5"], output: .inherit)
        var ended: Subprocess? = nil
        while ended == nil { ended = try Subprocess.firstExited(of: [mine, slow]) }
        #expect(ended?.pid == mine.pid)
        #expect(mine.wait() == 7)
        // The stranger was not reaped by anyone but its owner.
        #expect(stranger.wait() == 5)
        #expect(slow.wait() == 3)
    }

    @Test func hasExitedDoesNotReap() throws {
        let child = try Subprocess.spawn("/bin/sh", ["-c", "exit 9"], output: .inherit)
        let deadline = monotonic() + 10
        while !child.hasExited() && monotonic() < deadline { usleep(1_000) }
        #expect(child.hasExited())
        // The status is still there for wait: hasExited only looked.
        #expect(child.wait() == 9)
    }

    @Test func pipeDescriptorsAreCloseOnExecInTheParent() throws {
        // The capture pipe's read end, held by the parent, must not leak into
        // a second child spawned while the first one runs.
        let first = try Subprocess.spawn("/bin/sh", ["-c", "sleep 0.2; echo first"])
        let second = try Subprocess.spawn("/bin/sh", ["-c", "ls /proc/self/fd"])
        let listing = second.waitCapturing(limit: 1 << 20, timeout: .seconds(20)).output
        #expect(listing.split(separator: "\n").compactMap { Int32($0) }.filter { $0 > 2 }.count <= 1, "\(listing)")
        #expect(first.waitCapturing(limit: 1 << 20, timeout: .seconds(20)).output == "first\n")
    }
}

@Suite struct ThreadTests {
    @Test func concurrentMapKeepsOrder() {
        let items = Array(0..<100)
        #expect(concurrentMap(items, width: 4) { $0 * $0 } == items.map { $0 * $0 })
    }

    @Test func concurrentMapRunsItemsAtOnce() {
        // Four items that each wait for all four to have started: this ends
        // only if four threads run them at the same time.
        let barrier = Barrier(4)
        let results = concurrentMap(Array(0..<4), width: 4) { i -> Int in
            barrier.arriveAndWait(timeout: 10) ? i : -1
        }
        #expect(results == [0, 1, 2, 3])
    }

    @Test func concurrentMapOfNothingOrOne() {
        #expect(concurrentMap([Int](), width: 8) { $0 }.isEmpty)
        #expect(concurrentMap([41], width: 8) { $0 + 1 } == [42])
    }
}

@Suite struct HexTests {
    @Test func roundTrip() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        #expect(Hex.encode(bytes) == "00017f80abff")
        #expect(Hex.decode("00017F80ABff") == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite struct SystemErrorTests {
    @Test func errnoIsReadBeforeTheNameIsBuilt() {
        errno = ENOENT
        let error = SystemError({ () -> String in
            errno = EPERM  // what an allocation in the name could do
            return "open x"
        }())
        #expect(error.errno.rawValue == ENOENT)
        #expect(error.description.hasPrefix("open x: "))
    }
}

/// A count-down barrier with a deadline, for the fan-out test.
private final class Barrier: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var waiting: Int

    init(_ count: Int) {
        waiting = count
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    func arriveAndWait(timeout seconds: Int) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        waiting -= 1
        if waiting == 0 { pthread_cond_broadcast(&condition); return true }
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += seconds
        while waiting > 0 {
            if pthread_cond_timedwait(&condition, &mutex, &deadline) != 0 { return false }
        }
        return true
    }
}

/// The bounded, deadline-aware capture that trial loads use.
extension SubprocessTests {
    @Test func boundedCaptureKeepsTheLimitAndDrainsTheRest() throws {
        // 8 MiB through a pipe whose buffer holds 64 KiB: the child ends only
        // if the rest is read, and only the first 1000 bytes are kept.
        let child = try Subprocess.spawn("/bin/sh", ["-c", "head -c 8388608 /dev/zero | tr '\\0' x; exit 4"])
        let capture = child.waitCapturing(limit: 1000, timeout: .milliseconds(20000))
        #expect(!capture.timedOut)
        #expect(capture.status == 4)
        #expect(capture.truncated)
        #expect(capture.output == String(repeating: "x", count: 1000))

        let small = try Subprocess.spawn("/bin/sh", ["-c", "echo small"]).waitCapturing(limit: 1000, timeout: .milliseconds(20000))
        #expect(small.output == "small\n" && !small.truncated && !small.timedOut && small.status == 0)
    }

    @Test func boundedCaptureKillsAChildPastItsDeadline() throws {
        let start = monotonic()
        let child = try Subprocess.spawn("/bin/sh", ["-c", "echo begun; exec sleep 30"])
        let capture = child.waitCapturing(limit: 1000, timeout: .milliseconds(500))
        let waited = monotonic() - start
        #expect(capture.timedOut)
        #expect(capture.status == 128 + SIGKILL)
        #expect(capture.output == "begun\n")
        #expect(waited >= 0.5 && waited < 5, "waited \(waited) s")
        // Reaped: no such child is left.
        #expect(kill(child.pid, 0) != 0)
    }

    @Test func boundedCaptureDoesNotWaitForAGrandchildHoldingThePipe() throws {
        // The child ends at once; its background grandchild keeps the pipe's
        // write end open for 30 s. The wait ends with the child.
        let start = monotonic()
        let child = try Subprocess.spawn("/bin/sh", ["-c", "sleep 30 & echo $!"])
        let capture = child.waitCapturing(limit: 1000, timeout: .milliseconds(20000))
        if let grandchild = pid_t(capture.output.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(grandchild, SIGKILL) }
        #expect(!capture.timedOut && capture.status == 0)
        #expect(monotonic() - start < 5, "waited for the grandchild")
    }
}

/// A started process says it serves by `ReadyNotice`: the starter reads the
/// line, or the socket's end without it, or the child's end, never a clock.
@Suite struct ReadyNoticeTests {
    /// Spawns `script` with the channel's write end passed as descriptor 3,
    /// closes the parent's copy, and waits for what comes first.
    private func outcome(of script: String, timeout: Duration = .seconds(20)) throws -> (ReadyNotice.Outcome, Subprocess) {
        let channel = try ReadyNotice.Channel()
        let child = try Subprocess.spawn(
            "/bin/sh", ["-c", script], output: .inherit, environment: ["\(ReadyNotice.variable)=\(Subprocess.passedDescriptor)"],
            passing: channel.writeEnd)
        let readEnd = channel.keepingReadEnd()
        let end = try? Descriptor.process(child.pid)
        return (ReadyNotice.wait(on: readEnd, orEndOf: end, until: .now + timeout), child)
    }

    @Test func theLineMeansReady() throws {
        let (outcome, child) = try outcome(of: "echo ready >&$HOT_READY_FD; sleep 0.2")
        #expect(outcome == .ready)
        #expect(child.wait() == 0)
    }

    @Test func anEndWithoutTheLineIsSeenAtOnce() throws {
        let begun = ContinuousClock.now
        let (outcome, child) = try outcome(of: "exit 3")
        #expect(outcome == .closed || outcome == .exited)
        #expect(ContinuousClock.now - begun < .seconds(5))
        #expect(child.wait() == 3)
    }

    @Test func anotherLineIsNotReady() throws {
        let (outcome, child) = try outcome(of: "echo nope >&3; exec sleep 5")
        #expect(outcome == .closed)
        child.signal(SIGKILL)
        _ = child.wait()
    }

    @Test func silenceRunsIntoTheDeadline() throws {
        let (outcome, child) = try outcome(of: "exec sleep 5", timeout: .milliseconds(200))
        #expect(outcome == .timedOut)
        child.signal(SIGKILL)
        _ = child.wait()
    }

    @Test func thePassedDescriptorIsTheOnlyOneBeyondStandardOnes() throws {
        let channel = try ReadyNotice.Channel()
        let child = try Subprocess.spawn("/bin/sh", ["-c", "ls /proc/self/fd"], passing: channel.writeEnd)
        let listing = child.waitCapturing(limit: 1 << 20, timeout: .seconds(20)).output
        let open = listing.split(separator: "\n").compactMap { Int32($0) }
        #expect(open.contains(Subprocess.passedDescriptor), "\(open)")
        // 3, and the descriptor `ls` opens on /proc/self/fd itself.
        #expect(open.filter { $0 > 3 }.count <= 1, "\(open)")
    }
}
