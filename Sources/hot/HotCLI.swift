#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// The `hot` command line: the command table and the dispatch.
enum HotCLI {
    static let version = "0.1.0"

    static let commands: [Command] = [
        initCommand, adoptCommand, buildCommand, changedCommand, startCommand, stopCommand, deployCommand, updateCommand, statusCommand, fleetCommand,
        callCommand, spawnCommand, sendCommand, purgeCommand, deleteCommand, rollbackCommand, compactCommand, watchCommand, completionsCommand,
        helpCommand,
    ]

    /// Commands for scripts, not people: dispatched like the others, never listed.
    static let hiddenCommands: [Command] = [completeCommand]

    /// Runs one invocation; returns the exit status.
    static func run(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            print(overview())
            return ExitStatus.usage
        }
        switch first {
        case "--version", "-V", "version":
            print("hot \(version) (SDK \(HotSDK.fingerprint), Swift \(HotSDK.compiler), ABI \(HotSDK.abiVersion))")
            return ExitStatus.ok
        case "--help", "-h":
            print(overview())
            return ExitStatus.ok
        default:
            break
        }
        guard let command = (commands + hiddenCommands).first(where: { $0.name == first }) else {
            return report(.usage(.unknownCommand(first, nearest: nearestSpelling(to: first, among: commands.map(\.name)))))
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains(where: Option.help.spellings.contains) {
            print(help(for: command))
            return ExitStatus.ok
        }
        do {
            let parsed = try parse(rest, options: command.options, command: command.name)
            if !command.arguments.contains(parsed.positionals.count) {
                if parsed.positionals.count < command.arguments.lowerBound {
                    throw UsageError.missingArgument("more arguments (usage: hot \(command.usage))", command: command.name)
                }
                throw UsageError.extraArgument(parsed.positionals[command.arguments.upperBound], command: command.name)
            }
            try command.run(parsed)
            return ExitStatus.ok
        } catch let error as UsageError {
            return report(.usage(error))
        } catch let error as CommandError {
            return report(error)
        } catch {
            return report(.failed("\(error)"))
        }
    }

    /// Prints the error line and returns its status.
    static func report(_ error: CommandError) -> Int32 {
        switch error {
        case .failed(let message):
            printError(message)
            return ExitStatus.failed
        case .usage(let usage):
            printError(usage.description)
            return ExitStatus.usage
        case .unreachable(let message):
            printError(message)
            return ExitStatus.unreachable
        case .exit(let status):
            return status
        }
    }

    static func overview() -> String {
        let width = commands.map(\.name.count).max() ?? 8
        var text = """
            hot: Erlang-style hot code loading for Swift servers

            usage: hot COMMAND [OPTIONS] [ARGUMENTS]

            commands:

            """
        for command in commands {
            text += "  \(command.name.padding(width))  \(command.summary)\n"
        }
        text += """

            Run `hot help COMMAND` for a command's options.
            Exit status: 0 done, 1 the operation failed, 2 usage, 3 node unreachable or cookie refused.
            """
        return text
    }

    static func help(for command: Command) -> String {
        var text = "usage: hot \(command.usage)\n\n\(command.summary)\n"
        if !command.details.isEmpty { text += "\n\(command.details)\n" }
        if !command.options.isEmpty {
            text += "\noptions:\n"
            let labels = command.options.map { option -> String in
                let short = option.short.map { "-\($0), " } ?? ""
                return option.kind == .flag ? short + option.name : "\(short)\(option.name) \(option.valueName)"
            }
            let width = labels.map(\.count).max() ?? 0
            for (label, option) in zip(labels, command.options) {
                text += "  \(label.padding(width))  \(option.help)\n"
            }
        }
        return text
    }
}

/// `hot help [COMMAND]`.
let helpCommand = Command(
    name: "help", summary: "show the commands, or one command's options", usage: "help [COMMAND]",
    details: "", options: [], arguments: 0...1, argumentValues: [.commands]
) { (args) throws(CommandError) in
    guard let name = args.positionals.first else {
        print(HotCLI.overview())
        return
    }
    guard let command = HotCLI.commands.first(where: { $0.name == name }) else {
        throw .usage(.unknownCommand(name, nearest: nearestSpelling(to: name, among: HotCLI.commands.map(\.name))))
    }
    print(HotCLI.help(for: command))
}

/// Writes `hot: message` to stderr.
func printError(_ message: String) {
    writeStderr("hot: \(message)\n")
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Writes text to stderr unbuffered, so it interleaves rightly with stdout.
func writeStderr(_ text: String) {
    _ = writeAll(2, Array(text.utf8))
}
