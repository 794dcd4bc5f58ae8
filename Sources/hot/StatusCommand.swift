#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPlatform
import HotProject
import HotWire

/// `hot status`.
let statusCommand = Command(
    name: "status", summary: "show each module's current and old version, what it keeps, the processes and the tracked tasks",
    usage: "status [--node NAME|ADDRESS] [--json]",
    details: "",
    options: Option.nodeOptions + [.json], arguments: 0...0
) { (args) throws(CommandError) in
    let project = try? Project.find(from: currentDirectory())
    var documents: [(reply: StatusReply, patched: [PatchedMemberStatus]?)] = []
    for target in try resolveNodes(NodeSelection(args), project: project) {
        let client = try connect(target)
        do throws(ClientError) {
            let reply = try client.request(.status)
            documents.append((reply, try patchedMembers(reply, client)))
        } catch { throw clientFailure(error) }
    }
    if args.has(.json) {
        let terms = documents.map { document -> Term in
            guard let patched = document.patched, case .map(var fields) = document.reply.term else { return document.reply.term }
            fields["hostPatch"] = .list(patched.map(\.term))
            return .map(fields)
        }
        printJSON(terms.count == 1 ? terms[0] : .list(terms))
        return
    }
    for document in documents {
        var text = describeStatus(document.reply)
        if let patched = document.patched { text += "\n" + describePatched(patched) }
        print(text)
    }
}

/// A member of the host's code that the node's current patch replaces
/// (docs/ARCHITECTURE.md, "Patching the host"), as its export `members` says.
struct PatchedMemberStatus: Sendable {
    let file: String
    let member: String
    let line: Int
    let changed: Bool
    let runs: Int

    var term: Term {
        .map(["file": .string(file), "member": .string(member), "line": .int(line), "changed": .bool(changed), "runs": .int(runs)])
    }
}

/// The members the node's current host patch replaces, or nil when it runs none.
private func patchedMembers(_ reply: StatusReply, _ client: NodeClient) throws(ClientError) -> [PatchedMemberStatus]? {
    guard reply.modules.contains(where: { $0.name == HostPatchName.module && $0.current != nil }) else { return nil }
    let result = try client.request(.call(module: HostPatchName.module, function: "members", args: [])).result
    guard case .list(let entries) = result else { return nil }
    // Each `file TAB member TAB line TAB changed TAB runs` (HotPatch's PatchModuleSource).
    return entries.compactMap { entry in
        guard case .string(let text) = entry else { return nil }
        let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 5, let line = Int(fields[2]), let runs = Int(fields[4]) else { return nil }
        return PatchedMemberStatus(file: fields[0], member: fields[1], line: line, changed: fields[3] == "true", runs: runs)
    }
}

/// `hot status`'s lines for the patched host code.
func describePatched(_ members: [PatchedMemberStatus]) -> String {
    var text = "  host code patched (\(members.count) member\(members.count == 1 ? "" : "s")):"
    for member in members {
        let runs = member.runs == 0 ? "not run since patched" : "\(member.runs) run\(member.runs == 1 ? "" : "s") since patched"
        text += "\n    \(member.file):\(member.line) \(member.member)  \(runs)\(member.changed ? "" : " (back to its built code)")"
    }
    return text
}

/// `hot status` for people.
func describeStatus(_ document: StatusReply) -> String {
    var text = "node \(document.node)\n"
    if let unsupervised = document.unsupervised { text += "  \(unsupervised.description)\n" }
    if document.modules.isEmpty { text += "  no modules loaded\n" }
    for module in document.modules {
        var line = "  \(module.name.padding(16))"
        if let current = module.current {
            let commit = current.commit.map { " (\(String($0.prefix(12)))\($0.hasSuffix("+dirty") ? "+dirty" : ""))" } ?? ""
            let builtIn = current.version == 0 && module.builtIn == true ? " (built in)" : ""
            line += " current v\(current.version)\(builtIn)\(commit) loaded \(utcTime(current.loadedAt))"
            let work = [
                (current.calls ?? 0) > 0 ? "\(current.calls ?? 0) calls in flight" : nil,
                (current.tasks ?? 0) > 0 ? "\(current.tasks ?? 0) tracked task\(current.tasks == 1 ? "" : "s")" : nil,
            ].compactMap { $0 }
            if !work.isEmpty { line += " (\(work.joined(separator: ", ")))" }
        } else {
            line += " no current version (deleted)"
        }
        if let old = module.old {
            line += ", old v\(old.version) (\(old.processes) processes\((old.calls ?? 0) > 0 ? ", \(old.calls ?? 0) calls in flight" : "")"
            line += "\((old.tasks ?? 0) > 0 ? ", \(old.tasks ?? 0) tracked task\(old.tasks == 1 ? "" : "s")" : ""))"
        }
        if module.builtIn == true, module.current?.version != 0 { line += ", built in v0" }
        if module.sticky { line += ", sticky" }
        if let kept = module.kept, !kept.isEmpty {
            line += ", keeps \(kept.map { "\($0.key) (\($0.bytes) bytes)" }.joined(separator: ", "))"
        }
        text += line + "\n"
    }
    for refused in document.refused ?? [] {
        text += "  refused: \(refused.module) v\(refused.version) (key \(refused.key.prefix(12))): the node died loading it (\(utcTime(refused.diedAt))); deploy with --force to try again\n"
    }
    if let mapped = document.mappedVersions {
        let retained = document.retainedBytes > 0 ? " (\(byteSize(document.retainedBytes)) held by versions neither current nor old)" : ""
        text += "  versions mapped: \(grouped(mapped))\(retained)\n"
    }
    if let last = document.lastCompaction {
        text += "  last compaction: \(utcTime(last.at)) (\(last.trigger)): \(describeFreed(last)); paused \(milliseconds(last.pausedMilliseconds / 1000))\n"
    }
    text += document.processes.isEmpty ? "  no processes" : "  processes:"
    for p in document.processes {
        text += "\n    \(p.pid) \(p.name ?? "") \(p.module) v\(p.version) (\(p.code.rawValue) code)"
    }
    if let tasks = document.tasks, !tasks.isEmpty {
        text += "\n  tracked tasks:"
        for t in tasks {
            text += "\n    #\(t.id) \(t.label) \(t.module) v\(t.version) (\(t.code.rawValue) code) started at \(t.file):\(t.line)"
            if t.lifetime == TaskLifetime.whileCurrent.rawValue { text += ", while current" }
        }
    }
    return text
}
