#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Testing
@testable import HotBuild

/// One writer of a project's builds at a time. flock(2) locks belong to an
/// open file, so two acquisitions in this one process contend as two
/// processes would.
@Suite("ProjectLock")
struct ProjectLockTests {
    static func project(_ dir: Scratch) throws -> Project {
        try dir.write("hot.json", "{\"name\": \"app\"}\n")
        return try Project.load(root: dir.path)
    }

    @Test("a second taker waits, is told once who holds it, and gives up at the deadline naming the holder")
    func contention() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let project = try Self.project(dir)
        let first = try ProjectLock.acquire(project, timeout: .zero) { _ in Issue.record("a free lock must not wait") }
        defer { first.release() }
        #expect(try dir.read(".hot/lock") == "\(getpid())\n")

        var told: [Int32?] = []
        let started = monotonic()
        let error = #expect(throws: ProjectLock.Failure.self) {
            _ = try ProjectLock.acquire(project, timeout: .milliseconds(300)) { told.append($0) }
        }
        guard case .timedOut(let path, let holder, _)? = error else {
            Issue.record("not timedOut: \(String(describing: error))")
            return
        }
        #expect(path == project.lockPath && holder == getpid())
        #expect(error?.description.contains("pid \(getpid())") == true)
        #expect(monotonic() - started >= 0.3)
        #expect(told == [getpid()])
        #expect(try dir.read(".hot/lock") == "\(getpid())\n", "a waiter leaves the holder's pid alone")
    }

    @Test("a released lock, or one whose owner is gone, is free at once")
    func release() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let project = try Self.project(dir)
        let first = try ProjectLock.acquire(project, timeout: .zero) { _ in }
        first.release()
        #expect(try dir.read(".hot/lock") == "")
        var second: ProjectLock? = try ProjectLock.acquire(project, timeout: .zero) { _ in Issue.record("released: must not wait") }
        #expect(second != nil)
        second = nil
        let third = try ProjectLock.acquire(project, timeout: .zero) { _ in Issue.record("deinit must release") }
        third.release()
    }

    @Test("a waiter gets the lock as soon as the holder lets go")
    func handOver() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        let project = try Self.project(dir)
        nonisolated(unsafe) let first = try ProjectLock.acquire(project, timeout: .zero) { _ in }
        try! startThread {
            usleep(200_000)
            first.release()
        }
        var waited = false
        let second = try ProjectLock.acquire(project, timeout: .seconds(10)) { _ in waited = true }
        defer { second.release() }
        #expect(waited)
    }
}
