import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// Compaction (docs/ARCHITECTURE.md, "Compaction"): a real node, started by
/// `hot start` under its supervisor, takes many loads, then re-executes
/// itself in place. Each test checks it from outside: the same pid, the same
/// current versions, servers with their state and names, callers that never
/// fail, /proc figures back to a fresh node's.
@Suite("Compaction", .serialized)
struct CompactionTests {
    /// A project with `hello` v1 and the `counter` server module, its node
    /// started by `hot start`.
    private static func startProject(_ scratch: Scratch, threshold: String? = nil) throws -> CompactionProject {
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        if let threshold {
            let config = try scratch.read("app/hot.json")
            try scratch.write("app/hot.json", config.replacingOccurrences(of: "{", with: "{\n  \"compact\": \(threshold),", options: [], range: config.range(of: "{")))
        }
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/counter"), withIntermediateDirectories: true)
        try scratch.write("app/modules/counter/counter.swift", CodeServerModules.counter(version: 1, shape: .count))
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/ledger"), withIntermediateDirectories: true)
        try scratch.write("app/modules/ledger/ledger.swift", CompactionModules.ledger)
        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
        return CompactionProject(scratch: scratch)
    }

    @Test("compaction keeps the current versions, the servers' state and names, and gives back what retained versions held")
    func compactionKeepsWhatIsCurrent() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let project = try Self.startProject(scratch)
        let client = try project.client()
        _ = try client.request(.spawn(module: "counter", function: "counter", args: [], name: "counter"))
        _ = try client.request(.spawn(module: "ledger", function: "ledger", args: [], name: "ledger"))
        for _ in 0..<3 { _ = try client.request(.call(module: "counter", function: "bump", args: [])).result }
        for entry in ["a", "b"] { _ = try client.request(.call(module: "ledger", function: "add", args: [.string(entry)])).result }
        // Versions that become retained: each deploy of hello maps one more.
        try project.deploy("hello", versions: 2...25) { CodeServerModules.constant("hello", version: $0) }
        let before = try client.request(.status)
        try #require((before.mappedVersions ?? 0) >= 27, "\(before)")
        let memoryBefore = try #require(ProcessMemory.of(pid: Int32(before.pid)))

        let reply = try project.compact()
        #expect(reply.pid == before.pid)
        #expect(reply.modules == ["hello": 25, "counter": 1, "ledger": 1])
        #expect(Set(reply.servers).count == 2)
        let after = try project.awaitCompaction(since: nil)
        let record = try #require(after.lastCompaction)
        #expect(after.pid == before.pid, "compaction re-executes in place")
        #expect(record.trigger == "request")
        #expect(record.versionsBefore == before.mappedVersions)
        #expect(record.versionsAfter == 3)
        #expect(after.mappedVersions == 3)
        #expect(record.mappingsAfter < record.mappingsBefore, "\(record)")
        #expect(record.mappingsBefore >= memoryBefore.mappings - 8, "\(record) against \(memoryBefore)")
        #expect(Set(record.servers) == Set(reply.servers))
        #expect(after.modules.map { "\($0.name) v\($0.current?.version ?? 0) \($0.permanent ?? 0)" }.sorted()
            == before.modules.map { "\($0.name) v\($0.current?.version ?? 0) \($0.permanent ?? 0)" }.sorted())
        #expect(after.modules.allSatisfy { $0.old == nil })
        // The servers: the same pids, names and state.
        let servers = Dictionary(after.processes.map { ($0.name ?? "", $0.pid) }, uniquingKeysWith: { a, _ in a })
        #expect(servers == Dictionary(before.processes.map { ($0.name ?? "", $0.pid) }, uniquingKeysWith: { a, _ in a }))
        let again = try project.client()
        let count = try again.request(.call(module: "counter", function: "bump", args: [])).result
        #expect(count["count"]?.intValue == 4, "\(count)")
        let entries = try again.request(.call(module: "ledger", function: "entries", args: [])).result
        #expect(entries == .list(["a", "b"]), "\(entries)")
        // A pid handed out now was never handed out before.
        let newest = try again.request(.spawn(module: "counter", function: "counter", args: [], name: "counter2")).pid.id
        #expect(before.processes.allSatisfy { (Pid(parsing: $0.pid)?.id ?? 0) < newest })
        // A deploy right after works, and numbers on from the current version.
        try project.deploy("hello", versions: 26...26) { CodeServerModules.constant("hello", version: $0) }
        #expect(try again.request(.call(module: "hello", function: "hi", args: [])).result.stringValue == "hello v26")
    }

    @Test("after a compaction the node holds what a fresh node with the same versions holds, by /proc")
    func compactedNodeMatchesAFreshOne() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let project = try Self.startProject(scratch)
        try project.deploy("hello", versions: 2...40) { CodeServerModules.constant("hello", version: $0) }
        _ = try project.compact()
        let compacted = try project.awaitCompaction(since: nil)
        // A fresh node of the same project boots the same current versions.
        let fresh = try scratch.hot(["start", "--node", "fresh"])
        try #require(fresh.status == 0, "\(fresh)")
        let freshStatus = try NodeClient(address: .unix(path: scratch.path("app/.hot/nodes/fresh/node.sock")), cookieFile: project.cookie)
            .request(.status)
        #expect(freshStatus.modules.map { "\($0.name) v\($0.current?.version ?? 0)" }.sorted()
            == compacted.modules.map { "\($0.name) v\($0.current?.version ?? 0)" }.sorted())
        let ours = try #require(ProcessMemory.of(pid: Int32(compacted.pid)))
        let theirs = try #require(ProcessMemory.of(pid: Int32(freshStatus.pid)))
        let record = try #require(compacted.lastCompaction)
        // The node before held 39 more versions, four mappings each; the
        // compacted one is within a few threads' stacks of the fresh one.
        #expect(record.mappingsBefore - ours.mappings >= 39 * 3, "\(record), now \(ours)")
        #expect(abs(ours.mappings - theirs.mappings) <= 12, "compacted \(ours), fresh \(theirs)")
        #expect(Double(ours.resident) <= Double(theirs.resident) * 1.25 + 2_000_000, "compacted \(ours), fresh \(theirs)")
    }

    @Test("callers calling without pause see no failed call, and each answer comes from a current version")
    func callersNeverFail() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let project = try Self.startProject(scratch)
        try project.deploy("hello", versions: 2...6) { CodeServerModules.constant("hello", version: $0) }
        let tally = CallTally()
        let threads = (0..<3).map { _ in
            Thread(block: {
                do {
                    // NodeClient sends a request the node answered
                    // `reconnect` again on a new connection.
                    let client = try project.client()
                    while tally.running.load(ordering: .relaxed) {
                        let answer = try client.request(.call(module: "hello", function: "hi", args: [])).result
                        tally.record(answer)
                    }
                } catch {
                    tally.fail("\(error)")
                }
            })
        }
        // A client connecting while the node is between processes waits in
        // the backlog and is served; it is never refused.
        let connector = Thread(block: {
            while tally.running.load(ordering: .relaxed) {
                let pinged = Result { () throws(ClientError) in try project.client().request(.ping) }
                switch pinged {
                case .success: tally.connected()
                case .failure(let error): tally.fail("connect: \(error)")
                }
            }
        })
        for thread in threads + [connector] { thread.start() }
        defer { tally.running.store(false, ordering: .relaxed) }
        usleep(300_000)
        _ = try project.compact()
        let after = try project.awaitCompaction(since: nil)
        usleep(300_000)
        tally.running.store(false, ordering: .relaxed)
        for thread in threads + [connector] { thread.join(seconds: 20) }
        let (answers, failures, connections) = tally.figures()
        #expect(failures.isEmpty, "\(failures.prefix(5))\n\((try? scratch.read("app/.hot/node.log")) ?? "")")
        #expect(answers.count > 50)
        #expect(answers.allSatisfy { $0 == "hello v6" }, "\(Set(answers))")
        #expect(connections > 10)
        #expect(after.lastCompaction?.pausedMilliseconds ?? -1 >= 0)
    }

    @Test("a plain process refuses compaction, naming its pid; --purge stops it first")
    func plainProcessRefuses() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let project = try Self.startProject(scratch)
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/t2"), withIntermediateDirectories: true)
        try scratch.write("app/modules/t2/t2.swift", CodeServerModules.process(version: 1))
        try project.deploy("t2", versions: 1...1) { CodeServerModules.process(version: $0) }
        let client = try project.client()
        let pid = try client.request(.spawn(module: "t2", function: "loop", args: [0], name: "looper")).pid
        let before = try client.request(.status)
        let refused = Result { () throws(ClientError) in try client.request(.compact(purge: false)) }
        guard case .failure(let error) = refused, case .failed(let code, let message) = error else {
            Issue.record("a compaction with a plain process running was not refused: \(refused)")
            return
        }
        #expect(code == .process)
        #expect(message.contains(pid.description), "\(message)")
        #expect(message.contains("--purge"), "\(message)")
        // Refused before anything changed: the same process serves, with its process.
        let still = try client.request(.status)
        #expect(still.pid == before.pid && still.lastCompaction == nil)
        #expect(still.processes.map(\.pid) == before.processes.map(\.pid))
        #expect(try client.request(.call(module: "t2", function: "version", args: [])).result == .int(1))

        let reply = try project.compact(purge: true)
        #expect(reply.stopped == [pid.description])
        let after = try project.awaitCompaction(since: nil)
        #expect(after.processes.isEmpty)
        #expect(after.pid == before.pid)
    }

    @Test("a server whose state does not come back refuses the compaction, and the node goes on as it was")
    func undecodableStateRefuses() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let project = try Self.startProject(scratch)
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/fragile"), withIntermediateDirectories: true)
        try project.deploy("fragile", versions: 1...1) { _ in CompactionModules.fragile }
        let client = try project.client()
        _ = try client.request(.spawn(module: "counter", function: "counter", args: [], name: "counter"))
        _ = try client.request(.spawn(module: "fragile", function: "fragile", args: [], name: "fragile"))
        _ = try client.request(.call(module: "counter", function: "bump", args: [])).result
        let before = try client.request(.status)
        let refused = Result { () throws(ClientError) in try client.request(.compact(purge: false)) }
        guard case .failure(.failed(let code, let message)) = refused else {
            Issue.record("a server whose state does not decode did not refuse the compaction: \(refused)")
            return
        }
        #expect(code == .process)
        #expect(message.contains("fragile-refuses-to-decode"), "\(message)")
        // Everything resumed: the servers answer, with their state, on the
        // connection that asked and on a new one; the same process serves.
        #expect(try client.request(.call(module: "counter", function: "bump", args: [])).result["count"]?.intValue == 2)
        let fresh = try project.client()
        #expect(try fresh.request(.call(module: "fragile", function: "poke", args: [])).result == .int(1))
        let after = try fresh.request(.status)
        #expect(after.pid == before.pid && after.lastCompaction == nil)
        #expect(after.mappedVersions == before.mappedVersions)
        #expect(after.processes.map(\.pid) == before.processes.map(\.pid))
    }

    @Test("a node killed right after its exec comes back on its permanent set")
    func killAfterExec() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let project = try Self.startProject(scratch)
        try project.deploy("hello", versions: 2...2) { CodeServerModules.constant("hello", version: $0) }
        // v3 is current but temporary: the permanent set still names v2.
        try scratch.write("app/modules/hello/hello.swift", CodeServerModules.constant("hello", version: 3))
        let temporary = try scratch.hot(["deploy", "--temporary"])
        try #require(temporary.status == 0, "\(temporary)")
        let before = try project.client().request(.status)
        try #require(before.modules.first { $0.name == "hello" }?.current?.version == 3)
        _ = try project.compact()
        // The exec has started once the process's environment (as /proc
        // shows it, fixed at exec) names the handoff.
        let deadline = Date().addingTimeInterval(10)
        var execed = false
        while Date() < deadline, !execed {
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(before.pid)/environ"))) ?? Data()
            execed = String(decoding: environ, as: UTF8.self).contains("HOT_COMPACTION_FD=")
            if !execed { usleep(200) }
        }
        try #require(execed, "the node never re-executed")
        kill(pid_t(before.pid), SIGKILL)
        // The supervisor starts it again: a new pid, the permanent set.
        let back = try project.awaitStatus(deadline: 20) { $0.pid != before.pid }
        #expect(back.modules.first { $0.name == "hello" }?.current?.version == 2, "\(back.modules)")
        #expect(back.lastCompaction == nil)
    }
}

/// A project whose node a compaction test drives.
struct CompactionProject {
    let scratch: Scratch
    var socket: String { scratch.path("app/.hot/node.sock") }
    var cookie: String { scratch.path("app/.hot/cookie") }

    func client() throws(ClientError) -> NodeClient { try NodeClient(address: .unix(path: socket), cookieFile: cookie) }

    /// Deploys `module` once per version, each with `source(version)`.
    func deploy(_ module: String, versions: ClosedRange<Int>, source: (Int) -> String) throws {
        for version in versions {
            try scratch.write("app/modules/\(module)/\(module).swift", source(version))
            let deployed = try scratch.hot(["deploy", module])
            try #require(deployed.status == 0, "\(deployed)")
        }
    }

    /// Asks for a compaction; the reply the old process sent before its exec.
    func compact(purge: Bool = false) throws -> CompactReply {
        try client().request(.compact(purge: purge))
    }

    /// The status of a node that has compacted since `since` (or at all).
    func awaitCompaction(since: Double?) throws -> StatusReply {
        try awaitStatus(deadline: 20) { status in
            guard let record = status.lastCompaction else { return false }
            return since.map { record.at > $0 } ?? true
        }
    }

    /// Polls status on fresh connections until `accept` takes it.
    func awaitStatus(deadline seconds: Double, _ accept: (StatusReply) -> Bool) throws -> StatusReply {
        let deadline = Date().addingTimeInterval(seconds)
        var last: String = "no answer"
        while Date() < deadline {
            do {
                let status = try client().request(.status)
                if accept(status) { return status }
                last = "\(status)"
            } catch {
                last = "\(error)"
            }
            usleep(20_000)
        }
        throw CompactionTestError("no status as expected within \(seconds) s; last: \(last)")
    }
}

struct CompactionTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What the callers of `callersNeverFail` saw.
final class CallTally: Sendable {
    private let state = Mutex((answers: [String](), failures: [String](), connections: 0))
    let running = Atomic<Bool>(true)

    func record(_ answer: Term) { state.withLock { $0.answers.append(answer.stringValue ?? "\(answer)") } }
    func fail(_ why: String) { state.withLock { $0.failures.append(why) } }
    func connected() { state.withLock { $0.connections += 1 } }

    func figures() -> (answers: [String], failures: [String], connections: Int) {
        state.withLock { ($0.answers, $0.failures, $0.connections) }
    }
}

extension Thread {
    /// Waits for the thread to finish, up to `seconds`.
    func join(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while !isFinished && Date() < deadline { usleep(10_000) }
    }
}

enum CompactionModules {
    /// A server `fragile` whose state encodes but refuses to decode: `poke()`
    /// counts.
    static let fragile = """
        import Hot

        let module = HotModule(
            exports: [.function("poke", { () throws -> Term in try Servers.call("fragile", "poke") })],
            servers: [.server("fragile", Fragile.self)])

        struct Refused: Error, CustomStringConvertible {
            var description: String { "fragile-refuses-to-decode" }
        }

        enum Fragile: Server {
            struct State: Codable {
                var pokes: Int
                init(pokes: Int) { self.pokes = pokes }
                init(from decoder: any Decoder) throws { throw Refused() }
            }
            static func start(_ args: [Term]) throws -> State { State(pokes: 0) }
            static func handleCall(_ request: Term, state: inout State) throws -> Term {
                state.pokes += 1
                return .int(state.pokes)
            }
        }

        """

    /// A server `ledger` that keeps a list of strings: `add(s)`, `entries()`.
    static let ledger = """
        import Hot

        let module = HotModule(
            exports: [
                .function("add", { (entry: String) throws -> Term in try Servers.call("ledger", .string(entry)) }),
                .function("entries", { () throws -> Term in try Servers.call("ledger", "entries") }),
            ],
            servers: [.server("ledger", Ledger.self)])

        enum Ledger: Server {
            struct State: Codable { var entries: [String] }
            static func start(_ args: [Term]) throws -> State { State(entries: []) }
            static func handleCall(_ request: Term, state: inout State) throws -> Term {
                if request.stringValue == "entries" { return .list(state.entries.map { .string($0) }) }
                if let entry = request.stringValue { state.entries.append(entry) }
                return .int(state.entries.count)
            }
        }

        """
}
