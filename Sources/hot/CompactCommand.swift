#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPlatform
import HotWire

/// `hot compact`.
let compactCommand = Command(
    name: "compact", summary: "re-execute a node in place with only its current versions mapped, freeing what old loads hold",
    usage: "compact [--node NAME|ADDRESS] [--purge] [--json]",
    details: """
        A node never unmaps a version it loaded: each load costs memory and about four mappings
        of the address space for the node's whole life (`hot status` shows the versions mapped),
        and Linux's default vm.max_map_count stops a node after some 16,000 loads. Compaction
        re-executes the node in place: the same pid keeps its listening sockets and boots exactly
        the current versions (same version numbers, same permanent set); every server carries its
        state (encoded as a Term by its current version, decoded by the same version in the new
        process) and its registered name. A client connecting meanwhile waits and is served;
        connections open at the moment are told to reconnect, and hot does so by itself.
        Plain processes cannot cross: the node refuses while any runs, naming them, unless
        --purge stops them. A node embedded in a server (a Hummingbird host) cannot re-execute
        itself and refuses. When it is done, prints what was freed and how long clients waited.
        Compact a node that has taken many loads (a dev node under hot watch); hot.json's
        "compact" ({"afterLoads": N, "afterRetainedBytes": N}) makes a node started by
        hot start compact by itself.
        """,
    options: Option.nodeOptions + [.compactPurge, .json],
    arguments: 0...0
) { (args) throws(CommandError) in
    let project = try? Project.find(from: currentDirectory())
    var documents: [Term] = []
    for target in try resolveNodes(NodeSelection(args), project: project) {
        let compaction = try compact(target, purge: args.has(.compactPurge))
        if args.has(.json) { documents.append(compaction.term) } else { print(compaction.summary) }
    }
    if args.has(.json) { printJSON(documents.count == 1 ? documents[0] : .list(documents)) }
}

/// How long `hot compact` waits for the node to serve again with a new
/// record of its compaction: a compaction pauses a node for well under a
/// second, a restart after a crash in it for a few.
private let compactionWait: Duration = .seconds(30)
/// How often `hot compact` asks the node again while it comes back.
private let compactionAskInterval: Duration = .milliseconds(50)

/// A compaction as `hot compact` saw it: the node's reply before it
/// re-executed, and the status of the process after.
struct Compacted {
    let node: String
    /// Nil when the connection broke before the reply arrived (the status
    /// after still shows the compaction).
    let reply: CompactReply?
    let after: StatusReply
    let record: StatusReply.Compaction
    /// The processes of the status before and after, to name the servers
    /// that crossed whichever pid the record gives.
    let known: [StatusReply.Process]

    /// The final status's `lastCompaction` and the reply, for `--json`.
    var term: Term {
        ["node": .string(node), "pid": .int(after.pid), "lastCompaction": after.term["lastCompaction"] ?? .null, "compact": reply?.term ?? .null]
    }

    /// One line: what was freed, how long clients waited, what crossed.
    var summary: String {
        var line = "compacted \(node): \(describeFreed(record)); clients waited \(milliseconds(record.pausedMilliseconds / 1000))"
        if !record.servers.isEmpty {
            let names = record.servers.map { pid in
                guard let process = known.first(where: { $0.pid == pid }) else { return pid }
                return "\(pid) \(process.name ?? "in \(process.module)")"
            }
            line += "; servers carried: \(names.joined(separator: ", "))"
        }
        if let stopped = reply?.stopped, !stopped.isEmpty { line += "; stopped \(stopped.joined(separator: " "))" }
        if let tasks = reply?.cancelledTasks, !tasks.isEmpty { line += "; cancelled tracked tasks \(tasks.joined(separator: ", "))" }
        return line
    }
}

/// Asks one node to compact and waits until it serves again; fails, in one
/// line, when it refused or came back without having compacted.
private func compact(_ target: NodeTarget, purge: Bool) throws(CommandError) -> Compacted {
    let client = try connect(target)
    let name = client.nodeName
    let before: StatusReply
    do { before = try client.request(.status) } catch { throw clientFailure(error) }
    var reply: CompactReply?
    do {
        reply = try client.request(.compact(purge: purge))
    } catch .failed(_, let message) {
        // The node's refusal says what stood in the way (plain processes
        // named, with --purge as the way on) and that nothing changed.
        throw .failed("\(name): \(message)")
    } catch .protocolError {
        // The node may have re-executed before its reply went out: its
        // status says whether it compacted.
    } catch {
        throw clientFailure(error)
    }
    // The node answered, then re-executed: the first status it gives says
    // whether the new process runs (a newer record), or the exec failed.
    let after = try statusAfterCompaction(target, name: name)
    if let record = after.lastCompaction, record.at > before.lastCompaction?.at ?? -.infinity {
        return Compacted(node: name, reply: reply, after: after, record: record, known: after.processes + before.processes)
    }
    if after.pid != before.pid {
        throw .failed("\(name) did not compact: it died in the attempt and its supervisor restarted it on its permanent set (pid \(before.pid), now \(after.pid)); its log says why")
    }
    throw .failed("\(name) did not compact: the process (pid \(after.pid)) could not re-execute itself and goes on serving; its log says why")
}

/// The node's status once it serves again: connects (waiting while it is
/// unreachable) and asks, until `compactionWait` has passed.
private func statusAfterCompaction(_ target: NodeTarget, name: String) throws(CommandError) -> StatusReply {
    let deadline = ContinuousClock.now + compactionWait
    var last: ClientError?
    repeat {
        do throws(ClientError) {
            let client = try NodeClient(address: target.address, cookieFile: target.cookieFile, waiting: deadline.timeLeft)
            return try client.request(.status)
        } catch {
            switch error {
            // A cookie refused, or a document not understood, will not change.
            case .refused, .cookie, .badReply: throw clientFailure(error)
            case .unreachable, .busy, .protocolError, .failed: last = error
            }
            // A connection the new process dropped as it came up: asked again.
            // No event says when it serves: the exec keeps the pid (its pidfd
            // does not fire) and this command did not start it, so holds no
            // ready socket (docs/ARCHITECTURE.md, "Waiting").
            pause(for: compactionAskInterval)
        }
    } while ContinuousClock.now < deadline
    throw .failed("\(name) did not answer within \(compactionWait.shortDescription) after it was asked to compact\(last.map { ": \($0)" } ?? ""); is it running? (hot start)")
}

/// `2,003 versions -> 3, resident 76.1 MB -> 25.3 MB, mappings 4,021 -> 221`.
func describeFreed(_ record: StatusReply.Compaction) -> String {
    "\(grouped(record.versionsBefore)) versions -> \(grouped(record.versionsAfter)), "
        + "resident \(byteSize(record.residentBefore)) -> \(byteSize(record.residentAfter)), "
        + "mappings \(grouped(record.mappingsBefore)) -> \(grouped(record.mappingsAfter))"
}

/// `2,003`.
func grouped(_ number: Int) -> String {
    let digits = String(number.magnitude)
    var text = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { text += "," }
        text.append(digit)
    }
    return number < 0 ? "-" + text : text
}

/// `76.1 MB`, or `45 KB` below a megabyte (decimal units).
func byteSize(_ bytes: Int) -> String {
    guard bytes >= 999_950 else { return "\(grouped(Int((Double(bytes) / 1000).rounded()))) KB" }
    let tenths = Int((Double(bytes) / 100_000).rounded())
    return "\(grouped(tenths / 10)).\(tenths % 10) MB"
}

extension Option {
    static let compactPurge = Option("--purge", .flag, help: "stop plain processes, which cannot cross, instead of refusing")
}
