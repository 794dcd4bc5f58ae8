#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPlatform

/// `hot status`.
let statusCommand = Command(
    name: "status", summary: "show each module's current and old version, and the processes",
    usage: "status [--node NAME|ADDRESS] [--json]",
    details: "",
    options: CommonOptions.nodeOptions + [CommonOptions.json], arguments: 0...0
) { (args) throws(CommandError) in
    let project = try? Project.find(from: currentDirectory())
    var documents: [Term] = []
    for target in try resolveNodes(args, project: project) {
        let client = try connect(target)
        do throws(ClientError) { documents.append(try client.request(.status)) } catch { throw clientFailure(error) }
    }
    if args.has("--json") {
        printJSON(documents.count == 1 ? documents[0] : .list(documents))
        return
    }
    for document in documents { print(describeStatus(document)) }
}

/// `hot status` for people.
func describeStatus(_ document: Term) -> String {
    var text = "node \(document["node"]?.stringValue ?? "?")\n"
    let modules = document["modules"]?.listValue ?? []
    if modules.isEmpty { text += "  no modules loaded\n" }
    for module in modules {
        let name = module["name"]?.stringValue ?? "?"
        var line = "  \(name.padding(16))"
        if let current = module["current"], case .map = current {
            let commit = current["commit"]?.stringValue.map { " (\(String($0.prefix(12)))\($0.hasSuffix("+dirty") ? "+dirty" : ""))" } ?? ""
            let loaded = current["loadedAt"].flatMap { term -> String? in
                if case .double(let seconds) = term { return " loaded \(utcTime(seconds))" }
                return nil
            } ?? ""
            line += " current v\(current["version"]?.intValue ?? 0)\(commit)\(loaded)"
        } else {
            line += " no current version (deleted)"
        }
        if let old = module["old"], case .map = old {
            line += ", old v\(old["version"]?.intValue ?? 0) (\(old["processes"]?.intValue ?? 0) processes)"
        }
        if module["sticky"]?.boolValue == true { line += ", sticky" }
        text += line + "\n"
    }
    let processes = document["processes"]?.listValue ?? []
    text += processes.isEmpty ? "  no processes" : "  processes:"
    for p in processes {
        text += "\n    \(p["pid"]?.stringValue ?? "?") \(p["name"]?.stringValue ?? "") \(p["module"]?.stringValue ?? "?") v\(p["version"]?.intValue ?? 0) (\(p["code"]?.stringValue ?? "?") code)"
    }
    return text
}

/// `2026-11-27 10:04:17Z` for seconds since the epoch.
func utcTime(_ seconds: Double) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    var buffer = [CChar](repeating: 0, count: 32)
    let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%SZ", &parts)
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
