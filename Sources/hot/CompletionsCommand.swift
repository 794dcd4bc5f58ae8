import HotBuild
import HotPlatform

/// A shell `hot completions` writes a script for.
enum Shell: String, CaseIterable, Sendable {
    case bash, zsh, fish

    /// The completion script for this shell, generated from `commands`: the
    /// same option table the parser reads, so a new command or option is
    /// completed without anything written for it here.
    func script(for commands: [Command]) -> String {
        switch self {
        case .bash: BashCompletion(commands: commands).script
        case .zsh: ZshCompletion(commands: commands).script
        case .fish: FishCompletion(commands: commands).script
        }
    }
}

/// `hot completions SHELL`.
let completionsCommand = Command(
    name: "completions", summary: "print a shell completion script (bash, zsh or fish)",
    usage: "completions bash|zsh|fish",
    details: """
        The script completes commands, options, option values such as strategies and
        templates, the project's modules and the nodes of its hot.json. Modules and nodes are
        read when you press Tab, from the project of the current folder. To install:

          bash  hot completions bash > ~/.local/share/bash-completion/completions/hot
                (or add `source <(hot completions bash)` to ~/.bashrc)
          zsh   hot completions zsh > ~/.zfunc/_hot
                and put `fpath=(~/.zfunc $fpath)` before `compinit` in ~/.zshrc
                (or add `source <(hot completions zsh)` after `compinit`)
          fish  hot completions fish > ~/.config/fish/completions/hot.fish

        Then start a new shell. Generate the script again after upgrading hot.
        """,
    options: [], arguments: 1...1, argumentValues: [.fixed(Shell.allCases.map(\.rawValue))]
) { (args) throws(CommandError) in
    guard let shell = Shell(rawValue: args.positionals[0]) else {
        throw .usage(.invalidValue(option: "SHELL", value: args.positionals[0], reason: "use bash, zsh or fish"))
    }
    print(shell.script(for: HotCLI.commands), terminator: "")
}

/// `hot __complete modules|nodes`: what the completion scripts offer from the
/// project, one per line. Hidden from `hot help`; it runs on every Tab, so it
/// reads folder names and hot.json only (no git, no toolchain), and outside a
/// project it prints nothing and succeeds.
let completeCommand = Command(
    name: "__complete", summary: "print the project's modules or nodes, for the completion scripts",
    usage: "__complete modules|nodes", details: "", options: [], arguments: 1...1
) { (args) throws(CommandError) in
    let kind = args.positionals[0]
    guard kind == "modules" || kind == "nodes" else {
        throw .usage(.invalidValue(option: "KIND", value: kind, reason: "modules or nodes"))
    }
    guard let project = try? Project.find(from: currentDirectory()) else { return }
    let names =
        kind == "modules"
        ? (try? project.moduleNames()) ?? []
        // The project's own name is its local node (`resolveNodes`).
        : Set(project.config.nodes.keys).union([project.config.name]).sorted()
    for name in names { print(name) }
}

/// A position of a command's arguments that completion knows about: argument
/// `index` (from 0) and, when `onward`, every argument after it.
struct ArgumentSlot: Equatable, Sendable {
    let index: Int
    let onward: Bool
    let values: Option.Values
}

extension Command {
    /// The options completion offers: the table's, and `--help`, which every command takes.
    var completedOptions: [Option] { options + [.help] }

    /// `argumentValues` laid over the positions `arguments` allows, in order.
    var argumentSlots: [ArgumentSlot] {
        var slots: [ArgumentSlot] = []
        for (index, values) in argumentValues.enumerated() where index < arguments.upperBound {
            if index < argumentValues.count - 1 {
                slots.append(ArgumentSlot(index: index, onward: false, values: values))
            } else if arguments.upperBound == .max {
                slots.append(ArgumentSlot(index: index, onward: true, values: values))
            } else {
                for position in index..<arguments.upperBound {
                    slots.append(ArgumentSlot(index: position, onward: false, values: values))
                }
            }
        }
        return slots
    }
}

extension Option.Values {
    /// What one value is called, where a shell shows it.
    var noun: String {
        switch self {
        case .none, .fixed: "value"
        case .commands: "command"
        case .modules: "module"
        case .moduleTargets: "module:function"
        case .nodes: "node"
        case .files: "file"
        case .directories: "folder"
        }
    }
}
