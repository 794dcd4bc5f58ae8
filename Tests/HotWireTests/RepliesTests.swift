import Hot
import Testing

@testable import HotWire

/// A status reply with every shape a field takes: a module with current, old
/// and permanent versions, a deleted one, a process with a name and one without.
private let status = StatusReply(
    node: "app", pid: 4242, mode: "interactive",
    modules: [
        StatusReply.Module(
            name: "chat",
            current: StatusReply.Current(
                version: 3, key: "0123456789abcdef", commit: "a1b2c3d4e5f6+dirty", loadedAt: 1_700_000_000.25,
                file: "chat.v3-0123456789ab.so", bytes: 16384, exports: ["health", "send"]),
            old: StatusReply.Old(version: 2, processes: 1, key: "fedcba9876543210"),
            sticky: false, permanent: 3),
        StatusReply.Module(name: "lobby", current: nil, old: StatusReply.Old(version: 1, processes: 0, key: "00ff"), sticky: true, permanent: nil),
        StatusReply.Module(
            name: "math",
            current: StatusReply.Current(
                version: 1, key: "abab", commit: nil, loadedAt: 1_700_000_001, file: "math.v1-abababababab.so", bytes: 8, exports: []),
            old: nil, sticky: false, permanent: nil),
    ],
    processes: [
        StatusReply.Process(pid: "<0.7.0>", name: "chat_server", module: "chat", version: 3, code: .current, function: "server:chat_server"),
        StatusReply.Process(pid: "<0.9.0>", name: nil, module: "chat", version: 2, code: .old, function: "loop"),
    ],
    retainedBytes: 65536)

/// The same status as the node wrote it before it had a type: keys, value
/// kinds, and `null` (never an absent key) for what is not there.
private let statusTerm: Term = [
    "node": "app", "pid": 4242, "mode": "interactive",
    "modules": [
        [
            "name": "chat",
            "current": [
                "version": 3, "key": "0123456789abcdef", "commit": "a1b2c3d4e5f6+dirty", "loadedAt": .double(1_700_000_000.25),
                "file": "chat.v3-0123456789ab.so", "bytes": 16384, "exports": ["health", "send"],
            ],
            "old": ["version": 2, "processes": 1, "key": "fedcba9876543210"],
            "sticky": false, "permanent": 3,
        ],
        ["name": "lobby", "current": nil, "old": ["version": 1, "processes": 0, "key": "00ff"], "sticky": true, "permanent": nil],
        [
            "name": "math",
            "current": [
                "version": 1, "key": "abab", "commit": nil, "loadedAt": .double(1_700_000_001),
                "file": "math.v1-abababababab.so", "bytes": 8, "exports": [],
            ],
            "old": nil, "sticky": false, "permanent": nil,
        ],
    ],
    "processes": [
        ["pid": "<0.7.0>", "name": "chat_server", "module": "chat", "version": 3, "code": "current", "function": "server:chat_server"],
        ["pid": "<0.9.0>", "name": nil, "module": "chat", "version": 2, "code": "old", "function": "loop"],
    ],
    "retainedBytes": 65536,
]

/// `reply` encodes to exactly `term`, and both it and the wire bytes of that term read back as `reply`.
private func expectPinned<Reply: ReplyDocument>(
    _ reply: Reply, _ term: Term, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(reply.term == term, sourceLocation: sourceLocation)
    #expect(try Reply(term: term) == reply, sourceLocation: sourceLocation)
    #expect(try Reply(term: TermCodec.decode(TermCodec.encode(reply.term))) == reply, sourceLocation: sourceLocation)
}

/// The error reading `term` as a `Reply` raises, or nil when it reads.
private func refusal<Reply: ReplyDocument>(_ type: Reply.Type, _ term: Term) -> ReplyError? {
    do {
        _ = try Reply(term: term)
        return nil
    } catch {
        return error
    }
}

/// `term` with the value at `path` (map keys and list indices) replaced, or removed when `value` is nil.
private func editing(_ term: Term, at path: [Any], to value: Term?) -> Term {
    guard let first = path.first else { return value ?? .null }
    let rest = Array(path.dropFirst())
    switch (term, first) {
    case (.map(var fields), let key as String):
        if rest.isEmpty && value == nil {
            fields[key] = nil
        } else {
            fields[key] = editing(fields[key] ?? .null, at: rest, to: value)
        }
        return .map(fields)
    case (.list(var items), let index as Int):
        items[index] = editing(items[index], at: rest, to: value)
        return .list(items)
    default:
        preconditionFailure("no \(first) in \(term.kind)")
    }
}

@Suite struct RepliesTests {
    @Test("status: the exact term nodes have always sent, and back")
    func statusPinned() throws {
        try expectPinned(status, statusTerm)
    }

    @Test("status: the refused builds are an optional key, absent when none, so older nodes and clients still agree")
    func statusRefused() throws {
        #expect(status.refused == nil)
        guard case .map(let fields) = status.term else { Issue.record("\(status.term)"); return }
        #expect(fields["refused"] == nil, "no refused key when nothing is refused")
        var withRefused = status
        withRefused.refused = [
            StatusReply.Refused(module: "chat", version: 4, key: "0123456789ab", file: "chat.v4-0123456789ab.so", diedAt: 1_700_000_002.5)
        ]
        guard case .map(let refusedFields) = withRefused.term, case .list(let entries)? = refusedFields["refused"] else {
            Issue.record("\(withRefused.term)")
            return
        }
        #expect(entries.count == 1)
        #expect(try StatusReply(term: withRefused.term) == withRefused)
        #expect(withRefused.refused?.first?.names("chat", version: 4, key: "0123456789abcdef0123") == true)
        #expect(withRefused.refused?.first?.names("chat", version: 4, key: "fedcba") == false)
    }

    @Test("load: one entry per module, with from (null for a new module) and the work a purge stopped, flat in its map")
    func loadPinned() throws {
        let none: Term = ["stopped": [], "stubborn": [], "cancelledCalls": 0, "unendedCalls": 0, "cancelledTasks": [], "unendedTasks": []]
        let reply = LoadReply(modules: [
            ModuleLoad(
                module: "chat", from: 2, to: 3, codeChangeFailures: [CodeChangeFailure(pid: "<0.7.0>", reason: "refused")],
                work: StoppedWork(stopped: [Pid(9)], stubborn: [Pid(11)], cancelledCalls: 2, unendedCalls: 1,
                                  cancelledTasks: ["#3 ticker (chat v2)"], unendedTasks: ["#3 ticker (chat v2)"])),
            ModuleLoad(module: "math", from: nil, to: 1, codeChangeFailures: []),
        ])
        try expectPinned(reply, [
            [
                "module": "chat", "from": 2, "to": 3, "codeChangeFailures": [["pid": "<0.7.0>", "reason": "refused"]],
                "stopped": ["<0.9.0>"], "stubborn": ["<0.11.0>"], "cancelledCalls": 2, "unendedCalls": 1,
                "cancelledTasks": ["#3 ticker (chat v2)"], "unendedTasks": ["#3 ticker (chat v2)"],
            ],
            merged(["module": "math", "from": nil, "to": 1, "codeChangeFailures": []], none),
        ])
        try expectPinned(LoadReply(modules: []), [])
        // An older node sends no cancellations: read as none.
        let older: Term = [["module": "chat", "from": 2, "to": 3, "codeChangeFailures": [], "stopped": ["<0.4.0>"], "stubborn": []]]
        #expect(try LoadReply(term: older).modules.first?.work == StoppedWork(stopped: [Pid(4)], stubborn: []))
    }

    @Test("rollback: from, to and the servers whose codeChange failed")
    func rollbackPinned() throws {
        try expectPinned(
            RollbackReply(module: "chat", from: 3, to: 2, codeChangeFailures: [CodeChangeFailure(pid: "<0.7.0>", reason: "no")]),
            ["module": "chat", "from": 3, "to": 2, "codeChangeFailures": [["pid": "<0.7.0>", "reason": "no"]]])
        try expectPinned(
            RollbackReply(module: "chat", from: nil, to: 2, codeChangeFailures: []),
            ["module": "chat", "from": nil, "to": 2, "codeChangeFailures": []])
    }

    @Test("purge and soft purge: purged is null when there was no old code; soft stops nothing")
    func purgePinned() throws {
        let none: Term = ["stopped": [], "stubborn": [], "cancelledCalls": 0, "unendedCalls": 0, "cancelledTasks": [], "unendedTasks": []]
        try expectPinned(
            PurgeReply(module: "chat", purged: 2, work: StoppedWork(stopped: [Pid(9), Pid(10)], stubborn: [Pid(11)])),
            ["module": "chat", "purged": 2, "stopped": ["<0.9.0>", "<0.10.0>"], "stubborn": ["<0.11.0>"],
             "cancelledCalls": 0, "unendedCalls": 0, "cancelledTasks": [], "unendedTasks": []])
        try expectPinned(PurgeReply.soft(module: "chat", purged: 2), merged(["module": "chat", "purged": 2], none))
        try expectPinned(PurgeReply.soft(module: "chat", purged: nil), merged(["module": "chat", "purged": nil], none))
        #expect(refusal(PurgeReply.self, merged(["module": "chat", "purged": 2], ["stopped": ["pid 7"], "stubborn": []])) != nil,
                "a stopped entry that is not a pid is refused")
    }

    @Test("delete, stage, check and makePermanent")
    func smallRepliesPinned() throws {
        try expectPinned(DeleteReply(module: "chat", old: 3), ["module": "chat", "old": 3])
        try expectPinned(StageReply(file: "chat.v3-0123456789ab.so"), "chat.v3-0123456789ab.so")
        try expectPinned(CheckReply(files: ["chat.v3-0123456789ab.so", "math.v1-abababababab.so"]),
                         ["chat.v3-0123456789ab.so", "math.v1-abababababab.so"])
        try expectPinned(CheckReply(files: []), [])
        try expectPinned(MakePermanentReply(versions: ["chat": 3, "math": 1]), ["chat": 3, "math": 1])
        try expectPinned(MakePermanentReply(versions: [:]), [:])
    }

    @Test("the wire bytes of a delete and of a soft purge reply")
    func bytesPinned() {
        let delete: [UInt8] = [8, 2] + [6] + Array("module".utf8) + [5, 4] + Array("chat".utf8)
            + [3] + Array("old".utf8) + [3, 6]
        #expect(TermCodec.encode(DeleteReply(module: "chat", old: 3).term) == delete)
        let softPurge: [UInt8] = [8, 8]
            + [14] + Array("cancelledCalls".utf8) + [3, 0]
            + [14] + Array("cancelledTasks".utf8) + [7, 0]
            + [6] + Array("module".utf8) + [5, 4] + Array("chat".utf8)
            + [6] + Array("purged".utf8) + [0]
            + [7] + Array("stopped".utf8) + [7, 0]
            + [8] + Array("stubborn".utf8) + [7, 0]
            + [12] + Array("unendedCalls".utf8) + [3, 0]
            + [12] + Array("unendedTasks".utf8) + [7, 0]
        #expect(TermCodec.encode(PurgeReply.soft(module: "chat", purged: nil).term) == softPurge)
    }

    @Test("a missing field is refused, and the message names its path")
    func missingField() {
        let cases: [([Any], String)] = [
            (["modules", 0, "current", "version"], "the node's status reply lacks modules[0].current.version"),
            (["modules", 1, "permanent"], "the node's status reply lacks modules[1].permanent"),
            (["processes", 1, "name"], "the node's status reply lacks processes[1].name"),
            (["retainedBytes"], "the node's status reply lacks retainedBytes"),
        ]
        for (path, message) in cases {
            let error = refusal(StatusReply.self, editing(statusTerm, at: path, to: nil))
            #expect(error?.description == message, "\(path)")
        }
        let load: Term = [["module": "chat", "from": 2, "to": 3, "codeChangeFailures": [], "stopped": []]]
        #expect(refusal(LoadReply.self, load)?.description == "the node's load reply lacks [0].stubborn")
        #expect(refusal(PurgeReply.self, ["module": "chat", "stopped": [], "stubborn": []])?.description
            == "the node's purge reply lacks purged")
    }

    @Test("a mistyped field is refused, never read as a default")
    func mistypedField() {
        let cases: [([Any], Term, String)] = [
            (["modules", 0, "current", "version"], "3", "modules[0].current.version: expected int, found string"),
            (["modules", 0, "old"], "gone", "modules[0].old: expected map, found string"),
            (["modules", 0, "sticky"], 1, "modules[0].sticky: expected bool, found int"),
            (["processes", 0, "pid"], .pid(Pid(7)), "processes[0].pid: expected string, found pid"),
            (["modules"], [:], "modules: expected list, found map"),
        ]
        for (path, value, problem) in cases {
            let error = refusal(StatusReply.self, editing(statusTerm, at: path, to: value))
            #expect(error?.description == "the node's status reply is malformed: \(problem)", "\(path)")
        }
        let young = refusal(StatusReply.self, editing(statusTerm, at: ["processes", 0, "code"], to: "young"))
        #expect(young?.problem.path == "processes[0].code", "\(String(describing: young))")
        #expect(refusal(DeleteReply.self, .string("chat")) != nil)
        #expect(refusal(MakePermanentReply.self, ["chat": "3"]) != nil)
    }
}

/// The fields of two map terms in one map.
private func merged(_ a: Term, _ b: Term) -> Term {
    guard case .map(var fields) = a, case .map(let more) = b else { return a }
    fields.merge(more) { first, _ in first }
    return .map(fields)
}
