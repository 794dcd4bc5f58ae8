import Testing

@testable import hot

/// A table with one option of each kind, plus short aliases.
private let table: [Option] = [
    Option("--json", .flag, help: "json"),
    Option("--verbose", .flag, short: "v", help: "verbose"),
    Option("--jobs", .value, valueName: "N", short: "j", help: "jobs"),
    Option("--out", .value, help: "out"),
    Option("--node", .repeated, short: "n", help: "node"),
]

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
        #expect(try run([]) == ParsedArguments())
    }

    @Test func flags() throws {
        let parsed = try run(["--json", "a", "-v"])
        #expect(parsed.has("--json"))
        #expect(parsed.has("--verbose"), "a short alias records the long name")
        #expect(parsed.flags == ["--json", "--verbose"])
        #expect(parsed.positionals == ["a"])
        #expect(try !run(["a"]).has("--json"))
    }

    @Test func valueSeparateAndAttached() throws {
        #expect(try run(["--out", "x.txt"]).value("--out") == "x.txt")
        #expect(try run(["--out=x.txt"]).value("--out") == "x.txt")
        #expect(try run(["--out=a=b"]).value("--out") == "a=b", "only the first = splits")
        #expect(try run(["--out="]).value("--out") == "", "an empty attached value is a value")
        #expect(try run(["--out", "--json"]).value("--out") == "--json", "the next word is the value, whatever it looks like")
        #expect(try run(["--out", "x"]).positionals.isEmpty, "the value is not also a positional")
    }

    @Test func repeatedOptionsCollectInOrder() throws {
        let parsed = try run(["--node", "a", "x", "--node=b", "-n", "c", "-nd"])
        #expect(parsed.all("--node") == ["a", "b", "c", "d"])
        #expect(parsed.value("--node") == "d")
        #expect(parsed.positionals == ["x"])
        #expect(try run([]).all("--node") == [])
    }

    @Test func lastValueWins() throws {
        let parsed = try run(["--out", "first", "--out=second", "--out", "third"])
        #expect(parsed.value("--out") == "third")
        #expect(parsed.all("--out") == ["third"], "a .value option keeps only the last")
    }

    @Test func shortWithValue() throws {
        #expect(try run(["-j4"]).value("--jobs") == "4")
        #expect(try run(["-j", "4"]).value("--jobs") == "4")
        #expect(try run(["-j16", "m"]).positionals == ["m"])
        #expect(try run(["-j", "-5"]).value("--jobs") == "-5")
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
        #expect(usageError(["--jso"]) == .unknownOption("--jso", command: "test"), "no prefix matching")
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
        #expect(HotCLI.run(["call", "--json=1", "m:f"]) == 2)
    }

    @Test func helpExitsZero() {
        #expect(HotCLI.run(["help", "deploy"]) == 0)
        #expect(HotCLI.run(["help"]) == 0)
        #expect(HotCLI.run(["deploy", "--help"]) == 0)
        #expect(HotCLI.run(["help", "nosuch"]) == 2)
    }

    @Test func everyCommandHelpNamesItsOptions() {
        for command in HotCLI.commands {
            let text = HotCLI.help(for: command)
            #expect(text.hasPrefix("usage: hot \(command.name)"))
            for option in command.options { #expect(text.contains(option.name), "\(command.name) help lacks \(option.name)") }
        }
    }
}
