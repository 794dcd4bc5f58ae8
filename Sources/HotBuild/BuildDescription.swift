import Hot
import HotPlatform

/// SwiftPM's build description (`.build/<configuration>.yaml`, the llbuild
/// manifest SwiftPM writes and runs), read for what a hot module needs of a
/// host: how the host's Swift modules were compiled and which of them its
/// executable links. Only the `commands:` section is read; SwiftPM writes
/// each command's `inputs`, `outputs` and `args` as one JSON array a line.
struct BuildDescription: Sendable {
    /// One command of the description.
    struct Command: Sendable, Equatable {
        var name: String
        var inputs: [String] = []
        var outputs: [String] = []
        var args: [String] = []

        /// The value after `option` in `args`.
        func value(of option: String) -> String? {
            guard let i = args.firstIndex(of: option), i + 1 < args.count else { return nil }
            return args[i + 1]
        }
    }

    /// The commands, in the file's order.
    let commands: [Command]

    /// Reads the text of a description; throws the first line it cannot read.
    init(parsing text: String) throws(HostError.Reason) {
        var commands: [Command] = []
        var inCommands = false
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indent = line.prefix { $0 == " " }.count
            if indent == line.count { continue }  // a blank line between commands
            if indent == 0 {
                inCommands = line == "commands:"
                continue
            }
            guard inCommands else { continue }
            let body = line.dropFirst(indent)
            if indent == 2, body.hasSuffix(":") {
                commands.append(Command(name: Self.unquoted(body.dropLast())))
                continue
            }
            guard indent == 4, !commands.isEmpty, let colon = body.firstIndex(of: ":") else { continue }
            let key = body[..<colon]
            guard key == "inputs" || key == "outputs" || key == "args" else { continue }
            let value = body[body.index(after: colon)...].drop { $0 == " " }
            let strings: [String]
            do {
                guard case .list(let items) = try JSON.parse(String(value)) else {
                    throw HostError.Reason(line: number + 1, text: "\(key) is not a list")
                }
                strings = try items.map { (item) throws(HostError.Reason) -> String in
                    guard case .string(let s) = item else { throw HostError.Reason(line: number + 1, text: "\(key) holds a non-string") }
                    return s
                }
            } catch let error as HostError.Reason {
                throw error
            } catch {
                throw HostError.Reason(line: number + 1, text: "\(error)")
            }
            switch key {
            case "inputs": commands[commands.count - 1].inputs = strings
            case "outputs": commands[commands.count - 1].outputs = strings
            default: commands[commands.count - 1].args = strings
            }
        }
        self.commands = commands
    }

    private static func unquoted(_ text: Substring) -> String {
        guard text.count >= 2, text.first == "\"", text.last == "\"" else { return String(text) }
        return String(text.dropFirst().dropLast())
    }

    /// The command that links `product`: swiftc with `-emit-executable`
    /// writing a file of that name.
    func link(of product: String) -> Command? {
        commands.first { $0.args.contains("-emit-executable") && $0.value(of: "-o").map(lastPathComponent) == product }
    }

    /// A Swift module the description compiles.
    struct SwiftModule: Sendable, Equatable {
        /// The module's name.
        let name: String
        /// Its `.swiftmodule`.
        let path: String
        /// The command that compiles it.
        let command: Command
    }

    /// The Swift modules whose objects `link` links, in the file's order.
    func swiftModules(linkedBy link: Command) -> [SwiftModule] {
        let linked = Set(link.inputs)
        return commands.compactMap { command in
            guard let name = command.value(of: "-module-name"), command.outputs.contains(where: linked.contains),
                let path = command.outputs.first(where: { $0.hasSuffix(".swiftmodule") }) ?? command.value(of: "-emit-module-path")
            else { return nil }
            return SwiftModule(name: name, path: path, command: command)
        }
    }

    /// The flags for the C compiler that Swift hands on (`-Xcc X`) which an
    /// importer needs to see the same C modules: module maps, header search
    /// paths and macros. Code generation flags (`-fPIC`, `-g`) shape no
    /// declaration and are left out.
    static func clangImportFlags(of modules: [SwiftModule]) -> [String] {
        var groups: [[String]] = []
        var seen: Set<[String]> = []
        for module in modules {
            let args = module.command.args
            var i = 0
            while i + 1 < args.count {
                defer { i += 1 }
                guard args[i] == "-Xcc" else { continue }
                let value = args[i + 1]
                var group: [String]
                if ["-I", "-D", "-U", "-isystem"].contains(value), i + 3 < args.count, args[i + 2] == "-Xcc" {
                    group = ["-Xcc", value, "-Xcc", args[i + 3]]
                    i += 2
                } else if value.hasPrefix("-fmodule-map-file=") || value.hasPrefix("-I") || value.hasPrefix("-D")
                    || value.hasPrefix("-U")
                {
                    group = ["-Xcc", value]
                } else {
                    continue
                }
                i += 1
                if seen.insert(group).inserted { groups.append(group) }
            }
        }
        return groups.flatMap { $0 }
    }
}
