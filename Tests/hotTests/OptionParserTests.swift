import Testing

@testable import hot

/// A table with one option of each kind, plus short aliases.
private enum Table {
    static let json = Option("--json", .flag, help: "json")
    static let verbose = Option("--verbose", .flag, short: "v", help: "verbose")
    static let jobs = Option("--jobs", .value, valueName: "N", short: "j", help: "jobs")
    static let out = Option("--out", .value, help: "out")
    static let node = Option("--node", .repeated, short: "n", help: "node")
    static let all = [json, verbose, jobs, out, node]
}
private let table = Table.all

private func run(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
    try parse(arguments, options: table, command: "test")
}

private func usageError(_ arguments: [String]) -> UsageError? {
    do {
        _ = try run(arguments)
        return nil
    } catch {
        return error
    }
}

@Suite struct OptionParserTests {
    @Test func nothingGivenParsesToNothing() throws {
        #expect(try run([]) == ParsedArguments(declaring: table))
    }

    @Test func flags() throws {
        let parsed = try run(["--json", "a", "-v"])
        #expect(parsed.has(Table.json))
        #expect(parsed.has(Table.verbose), "a short alias records the long name")
        #expect(parsed.flags == ["--json", "--verbose"])
        #expect(parsed.positionals == ["a"])
        #expect(try !run(["a"]).has(Table.json))
    }

    @Test func valueSeparateAndAttached() throws {
        #expect(try run(["--out", "x.txt"]).value(Table.out) == "x.txt")
        #expect(try run(["--out=x.txt"]).value(Table.out) == "x.txt")
        #expect(try run(["--out=a=b"]).value(Table.out) == "a=b", "only the first = splits")
        #expect(try run(["--out="]).value(Table.out) == "", "an empty attached value is a value")
        #expect(try run(["--out", "--json"]).value(Table.out) == "--json", "the next word is the value, whatever it looks like")
        #expect(try run(["--out", "x"]).positionals.isEmpty, "the value is not also a positional")
    }

    @Test func repeatedOptionsCollectInOrder() throws {
        let parsed = try run(["--node", "a", "x", "--node=b", "-n", "c", "-nd"])
        #expect(parsed.all(Table.node) == ["a", "b", "c", "d"])
        #expect(parsed.value(Table.node) == "d")
        #expect(parsed.positionals == ["x"])
        #expect(try run([]).all(Table.node) == [])
    }

    @Test func lastValueWins() throws {
        let parsed = try run(["--out", "first", "--out=second", "--out", "third"])
        #expect(parsed.value(Table.out) == "third")
        #expect(parsed.all(Table.out) == ["third"], "a .value option keeps only the last")
    }

    @Test func shortWithValue() throws {
        #expect(try run(["-j4"]).value(Table.jobs) == "4")
        #expect(try run(["-j", "4"]).value(Table.jobs) == "4")
        #expect(try run(["-j16", "m"]).positionals == ["m"])
        #expect(try run(["-j", "-5"]).value(Table.jobs) == "-5")
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try run(["--json", "--", "--out", "-v", "--", "-j4"])
        #expect(parsed.flags == ["--json"])
        #expect(parsed.values.isEmpty)
        #expect(parsed.positionals == ["--out", "-v", "--", "-j4"])
    }

    @Test func negativeNumbersArePositionals() throws {
        // `hot call math:neg -5` must pass -5 as an argument.
        let parsed = try run(["math:neg", "-5", "-0.5", "-.5", "-12", "-"])
        #expect(parsed.positionals == ["math:neg", "-5", "-0.5", "-.5", "-12", "-"])
        #expect(parsed.flags.isEmpty)
    }

    @Test func unknownOption() {
        #expect(usageError(["--bogus"]) == .unknownOption("--bogus", command: "test"))
        #expect(usageError(["--bogus=1"]) == .unknownOption("--bogus", command: "test"))
        #expect(usageError(["-x"]) == .unknownOption("-x", command: "test"))
        #expect(usageError(["-xyz"]) == .unknownOption("-x", command: "test"))
        #expect(usageError(["--JSON"]) == .unknownOption("--JSON", command: "test"), "options are case-sensitive")
        #expect(usageError(["--jso"]) == .unknownOption("--jso", command: "test", nearest: "--json"), "no prefix matching")
    }

    @Test func unknownOptionSuggestsTheNearest() {
        #expect(usageError(["--jsn"]) == .unknownOption("--jsn", command: "test", nearest: "--json"))
        #expect(usageError(["--josn"]) == .unknownOption("--josn", command: "test", nearest: "--json"), "two letters swapped")
        #expect(usageError(["--verbos"]) == .unknownOption("--verbos", command: "test", nearest: "--verbose"))
        #expect(usageError(["--bogus"]) == .unknownOption("--bogus", command: "test"), "nothing near: no guess")
        #expect(
            UsageError.unknownOption("--jsn", command: "status", nearest: "--json").description
                == "unknown option '--jsn' for `hot status`; did you mean '--json'?")
        #expect(nearestSpelling(to: "stauts", among: HotCLI.commands.map(\.name)) == "status")
        #expect(nearestSpelling(to: "deplyo", among: HotCLI.commands.map(\.name)) == "deploy")
        #expect(nearestSpelling(to: "frobnicate", among: HotCLI.commands.map(\.name)) == nil)
        #expect(UsageError.unknownCommand("stauts", nearest: "status").description == "unknown command 'stauts'; did you mean 'status'?")
    }

    @Test func readingAnUndeclaredOptionTraps() async {
        await #expect(processExitsWith: .failure) {
            let parsed = try parse(["--json"], options: [Option.json], command: "status")
            _ = parsed.has(Option.release)
        }
        await #expect(processExitsWith: .failure, "a flag read as a value") {
            let parsed = try parse(["--json"], options: [Option.json], command: "status")
            _ = parsed.value(Option.json)
        }
        await #expect(processExitsWith: .failure, "another option of the same name") {
            let parsed = try parse(["--node", "n2"], options: [Option.startNode], command: "start")
            _ = parsed.all(Option.node)
        }
        let parsed = try? parse(["--json"], options: [Option.json, Option.release], command: "build")
        #expect(parsed?.has(.json) == true)
        #expect(parsed?.has(.release) == false, "declared and not given reads as not given")
    }

    @Test func missingValue() {
        #expect(usageError(["--out"]) == .missingValue(option: "--out"))
        #expect(usageError(["a", "-j"]) == .missingValue(option: "--jobs"))
        #expect(usageError(["--node", "a", "--node"]) == .missingValue(option: "--node"))
    }

    @Test func valueGivenToAFlag() {
        #expect(usageError(["--json=yes"]) == .unexpectedValue(option: "--json"))
        #expect(usageError(["--json="]) == .unexpectedValue(option: "--json"))
        // No bundling of short flags: `-vx` is -v with a value.
        #expect(usageError(["-vx"]) == .unexpectedValue(option: "--verbose"))
    }

    @Test func usageErrorsSayWhatToDo() {
        #expect(UsageError.unknownOption("--bogus", command: "build").description.contains("hot help build"))
        #expect(UsageError.missingValue(option: "--out").description.contains("--out"))
    }

    // MARK: HotCLI.run exit statuses

    @Test func versionExitsZero() {
        #expect(HotCLI.run(["--version"]) == 0)
    }

    @Test func unknownCommandIsUsage() {
        #expect(HotCLI.run(["nosuch"]) == 2)
        #expect(HotCLI.run([]) == 2)
    }

    @Test func missingArgumentIsUsage() {
        #expect(HotCLI.run(["call"]) == 2)
    }

    @Test func extraArgumentIsUsage() {
        #expect(HotCLI.run(["help", "deploy", "build"]) == 2)
    }

    @Test func unknownOptionIsUsage() {
        #expect(HotCLI.run(["build", "--bogus"]) == 2)
        #expect(HotCLI.run(["status", "--jsn"]) == 2)
        #expect(HotCLI.run(["call", "--json=1", "m:f"]) == 2)
    }

    @Test func helpExitsZero() {
        #expect(HotCLI.run(["help", "deploy"]) == 0)
        #expect(HotCLI.run(["help"]) == 0)
        #expect(HotCLI.run(["deploy", "--help"]) == 0)
        #expect(HotCLI.run(["help", "nosuch"]) == 2)
    }

    @Test func everyCommandDeclaresEachSpellingOnce() {
        // Options are global constants, some sharing a name (`--node`, `--purge`):
        // a command declaring two of one name would read one and parse the other.
        for command in HotCLI.commands + HotCLI.hiddenCommands {
            let spellings = (command.options + [.help]).flatMap(\.spellings)
            #expect(Set(spellings).count == spellings.count, "\(command.name) declares a spelling twice: \(spellings.sorted())")
        }
    }

    @Test func everyCommandHelpNamesItsOptions() {
        for command in HotCLI.commands {
            let text = HotCLI.help(for: command)
            #expect(text.hasPrefix("usage: hot \(command.name)"))
            for option in command.options { #expect(text.contains(option.name), "\(command.name) help lacks \(option.name)") }
        }
    }
}
