import Foundation
import Testing

/// `hot completions`: the bash script run by a real bash, its function driven
/// as bash's completion drives it, in a project made by `hot init`.
@Suite("shell completion")
struct CompletionTests {
    /// A project `app` (modules hello and chat; nodes web1 and web2 in hot.json) and the bash script beside it.
    private func project() throws -> Scratch {
        let scratch = try Scratch()
        do {
            let made = try scratch.hot(["init", "app"], in: "")
            try #require(made.status == 0, "\(made)")
            try FileManager.default.createDirectory(atPath: scratch.path("app/modules/chat"), withIntermediateDirectories: true)
            try scratch.write("app/modules/chat/chat.swift", "import Hot\n")
            let config = try scratch.read("app/hot.json")
                .replacing("\"nodes\": {}", with: "\"nodes\": {\"web1\": \"tcp://127.0.0.1:7101\", \"web2\": \"tcp://127.0.0.1:7102\"}")
            try scratch.write("app/hot.json", config)
            let script = try scratch.hot(["completions", "bash"], in: "")
            try #require(script.status == 0, "\(script)")
            try scratch.write("hot.bash", script.stdout)
        } catch {
            scratch.close()
            throw error
        }
        return scratch
    }

    /// Runs bash in `folder` with the script sourced and `hot` on PATH.
    private func bash(_ scratch: Scratch, _ program: String, _ arguments: [String] = [], in folder: String = "app") throws -> Outcome {
        let path = Binaries.directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try scratch.run(
            "/bin/bash", ["--norc", "--noprofile", "-c", "source \"$0\"; " + program, scratch.path("hot.bash")] + arguments,
            in: scratch.path(folder), environment: ["PATH": path])
    }

    /// What `_hot` offers for `words` (bash's split of the line, the cursor at the end of the last
    /// word), as bash calls it on Tab: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set.
    private func offers(_ scratch: Scratch, _ words: [String], in folder: String = "app") throws -> [String] {
        let program = """
            COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
            _hot hot "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let outcome = try bash(scratch, program, words, in: folder)
        #expect(outcome.status == 0, "\(outcome)")
        return outcome.stdout.split(separator: "\n").map(String.init).sorted()
    }

    @Test("the bash script registers _hot for hot, and parses")
    func registers() throws {
        let scratch = try project()
        defer { scratch.close() }
        let registered = try bash(scratch, "complete -p hot")
        #expect(registered.status == 0, "\(registered)")
        #expect(registered.stdout == "complete -F _hot hot\n", "\(registered)")
        let parsed = try scratch.run("/bin/bash", ["-n", scratch.path("hot.bash")], in: scratch.root)
        #expect(parsed.status == 0 && parsed.stderr.isEmpty, "\(parsed)")
        // compgen against the function, as a person's Tab runs it.
        let viaCompgen = try bash(scratch, "COMP_WORDS=(hot de); COMP_CWORD=1; _hot; compgen -W \"${COMPREPLY[*]}\" -- dep")
        #expect(viaCompgen.stdout == "deploy\n", "\(viaCompgen)")
    }

    @Test("commands, options and option values come from the table")
    func commandsOptionsValues() throws {
        let scratch = try project()
        defer { scratch.close() }
        #expect(try offers(scratch, ["hot", "de"]) == ["delete", "deploy"])
        #expect(try offers(scratch, ["hot", "comp"]) == ["compact", "completions"])
        #expect(try offers(scratch, ["hot", "compa"]) == ["compact"])
        #expect(try offers(scratch, ["hot", "compact", "--p"]) == ["--purge"])
        #expect(try offers(scratch, ["hot", "__"]) == [], "the hidden command is not offered")
        #expect(try offers(scratch, ["hot", "deploy", "--str"]) == ["--strategy", "--strict"])
        #expect(try offers(scratch, ["hot", "deploy", "--he"]) == ["--health-cmd", "--help"])
        #expect(try offers(scratch, ["hot", "deploy", "--strategy", ""]) == ["all", "canary", "rolling"])
        // `--strategy=ro`, which bash splits at the =.
        #expect(try offers(scratch, ["hot", "deploy", "--strategy", "=", ""]) == ["all", "canary", "rolling"])
        #expect(try offers(scratch, ["hot", "deploy", "--strategy", "=", "ro"]) == ["rolling"])
        #expect(try offers(scratch, ["hot", "init", "--template", ""]) == ["hummingbird", "project", "vapor"])
        #expect(try offers(scratch, ["hot", "start", "--mode", "e"]) == ["embedded"])
        #expect(try offers(scratch, ["hot", "completions", ""]) == ["bash", "fish", "zsh"])
        #expect(try offers(scratch, ["hot", "help", "st"]) == ["start", "status", "stop"])
        #expect(try offers(scratch, ["hot", "help", "deploy", ""]) == [], "help takes one argument")
        #expect(try offers(scratch, ["hot", "build", "--jobs", ""]) == [], "a number: nothing to offer")
        #expect(try offers(scratch, ["hot", "status", "--cookie-file", "hot."]) == ["hot.json"])
        #expect(try offers(scratch, ["hot", "init", "mo"]) == ["modules"])
        #expect(try offers(scratch, ["hot", "init", "ho"]) == [], "init's argument is a folder")
    }

    @Test("module names come from the project, node names from hot.json")
    func modulesAndNodes() throws {
        let scratch = try project()
        defer { scratch.close() }
        #expect(try offers(scratch, ["hot", "deploy", ""]) == ["chat", "hello"])
        #expect(try offers(scratch, ["hot", "deploy", "hello", ""]) == ["chat", "hello"], "deploy takes many modules")
        #expect(try offers(scratch, ["hot", "deploy", "--since", "main", "c"]) == ["chat"], "an option's value is not an argument")
        #expect(try offers(scratch, ["hot", "deploy", "--since", "=", "main", "c"]) == ["chat"])
        #expect(try offers(scratch, ["hot", "build", "-j4", "h"]) == ["hello"])
        #expect(try offers(scratch, ["hot", "rollback", "h"]) == ["hello"])
        #expect(try offers(scratch, ["hot", "rollback", "hello", ""]) == [], "rollback takes one module")
        #expect(try offers(scratch, ["hot", "rollback", "--to", "3", "h"]) == ["hello"], "--to's value is not the module")
        #expect(try offers(scratch, ["hot", "rollback", "--to", "=", "3", "h"]) == ["hello"])
        #expect(try offers(scratch, ["hot", "call", "he"]) == ["hello:"])
        #expect(try offers(scratch, ["hot", "call", "hello", ":", "greet", ""]) == [], "a call's arguments are JSON")
        #expect(try offers(scratch, ["hot", "status", "--node", ""]) == ["app", "web1", "web2"])
        #expect(try offers(scratch, ["hot", "deploy", "--node", "web1", "--node", "w"]) == ["web1", "web2"])
        // From a folder inside the project, as everywhere else in hot.
        #expect(try offers(scratch, ["hot", "purge", ""], in: "app/modules") == ["chat", "hello"])
        // Outside a project: nothing, and no noise.
        #expect(try offers(scratch, ["hot", "deploy", ""], in: "") == [])
        let outside = try scratch.hot(["__complete", "modules"], in: "")
        #expect(outside.status == 0 && outside.stdout.isEmpty && outside.stderr.isEmpty, "\(outside)")
        let modules = try scratch.hot(["__complete", "modules"])
        #expect(modules.stdout == "chat\nhello\n", "\(modules)")
    }

    @Test("a wrong shell is one usage line naming the three; help gives the install lines; __complete stays hidden")
    func usageAndHelp() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let wrong = try scratch.hot(["completions", "tcsh"], in: "")
        #expect(wrong.status == 2, "\(wrong)")
        #expect(wrong.stdout.isEmpty && wrong.stderr.split(separator: "\n").count == 1, "\(wrong)")
        #expect(["bash", "zsh", "fish"].allSatisfy(wrong.stderr.contains), "\(wrong)")
        #expect(try scratch.hot(["completions"], in: "").status == 2)
        let help = try scratch.hot(["help", "completions"], in: "")
        #expect(help.status == 0, "\(help)")
        for line in [
            "hot completions bash > ~/.local/share/bash-completion/completions/hot", "hot completions zsh > ~/.zfunc/_hot",
            "hot completions fish > ~/.config/fish/completions/hot.fish",
        ] {
            #expect(help.stdout.contains(line), "\(help)")
        }
        let overview = try scratch.hot(["help"], in: "")
        #expect(overview.stdout.contains("completions") && !overview.stdout.contains("__complete"), "\(overview)")
        #expect(try scratch.hot(["__complete", "everything"], in: "").status == 2)
    }

    @Test("the zsh and fish scripts name every command and option `hot help` lists, and parse where the shell exists")
    func zshAndFish() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let overview = try scratch.hot(["help"], in: "").stdout
        // `hot help`'s command lines: two spaces, the name, two spaces, the summary.
        let names = overview.split(separator: "\n").compactMap { $0.firstMatch(of: /^  ([a-z_]+)\s\s/)?.1 }.map(String.init)
        #expect(names.contains("deploy") && names.contains("completions"), "\(overview)")
        for shell in ["bash", "zsh", "fish"] {
            let script = try scratch.hot(["completions", shell], in: "")
            #expect(script.status == 0, "\(script)")
            for name in names {
                let help = try scratch.hot(["help", name], in: "").stdout
                let optionLines = help.split(separator: "\n").drop { $0 != "options:" }
                let options = optionLines.compactMap { $0.firstMatch(of: /^  (?:-\w, )?(--[a-z-]+)/)?.1 }.map(String.init)
                let block = Self.block(of: name, in: script.stdout, shell: shell)
                #expect(!block.isEmpty, "the \(shell) script lacks the command \(name)")
                for option in options {
                    let found =
                        switch shell {
                        case "bash": block.firstMatch(of: /options='([^']*)'/).map { $0.1.split(separator: " ").contains(Substring(option)) } ?? false
                        case "zsh": block.contains("\(option)[") || block.contains("\(option)=[")
                        default: block.contains(" -l \(option.dropFirst(2)) ")
                        }
                    #expect(found, "the \(shell) script lacks \(option) of \(name)")
                }
            }
            try scratch.write("hot.\(shell)", script.stdout)
            // zsh and fish are checked only where installed; bash is always there.
            guard let executable = Self.installed(shell) else { continue }
            let parsed = try scratch.run(executable, [shell == "fish" ? "--no-execute" : "-n", scratch.path("hot.\(shell)")], in: scratch.root)
            #expect(parsed.status == 0, "\(shell): \(parsed)")
        }
    }

    @Test("where fish is installed, its script completes from the project as fish runs it")
    func fishCompletes() throws {
        guard let fish = Self.installed("fish") else { return }
        let scratch = try project()
        defer { scratch.close() }
        let script = try scratch.hot(["completions", "fish"], in: "")
        try scratch.write("hot.fish", script.stdout)
        let path = Binaries.directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        func offers(_ line: String) throws -> [String] {
            let outcome = try scratch.run(
                fish, ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", scratch.path("hot.fish"), line],
                in: scratch.path("app"), environment: ["PATH": path])
            #expect(outcome.status == 0 && outcome.stderr.isEmpty, "\(outcome)")
            // Each line: the completion, a tab, its description.
            return outcome.stdout.split(separator: "\n").map { String($0.prefix { $0 != "\t" }) }.sorted()
        }
        #expect(try offers("hot de") == ["delete", "deploy"])
        #expect(try offers("hot deploy --str") == ["--strategy"])
        #expect(try offers("hot deploy --strategy ") == ["all", "canary", "rolling"])
        #expect(try offers("hot deploy hello ") == ["chat", "hello"])
        #expect(try offers("hot rollback --to 3 h") == ["hello"])
        #expect(try offers("hot rollback hello ") == [])
        #expect(try offers("hot call he") == ["hello:"])
        #expect(try offers("hot status --node ") == ["app", "web1", "web2"])
    }

    /// An executable of that name on PATH.
    private static func installed(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
            .first(where: FileManager.default.isExecutableFile)
    }

    /// The part of a script that completes one command (empty when it has none).
    private static func block(of name: String, in script: String, shell: String) -> String {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        switch shell {
        case "bash":
            return lines.first { $0.hasPrefix("        '\(name)') options=") }.map(String.init) ?? ""
        case "zsh":
            guard let start = lines.firstIndex(where: { $0 == "        (\(name))" }), script.contains("'\(name):") else { return "" }
            return lines[start...].prefix { !$0.hasSuffix(";;") }.joined(separator: "\n")
        default:
            guard script.contains("-n __hot_no_command -a \(name) -d") else { return "" }
            return lines.filter { $0.contains("-n '__hot_using \(name)'") }.joined(separator: "\n")
        }
    }
}
