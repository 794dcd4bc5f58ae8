/// One command-line option, as data (the shape of swift-driver's option table).
struct Option: Sendable {
    enum Kind: Sendable {
        /// `--name`, no value.
        case flag
        /// `--name VALUE` or `--name=VALUE`; the last one given wins.
        case value
        /// `--name VALUE`, any number of times.
        case repeated
    }

    /// What an option's value (or a command's argument) may be, for shell
    /// completion: the scripts `hot completions` writes offer these.
    enum Values: Sendable, Equatable {
        /// Free text: nothing to offer.
        case none
        /// One of these words.
        case fixed([String])
        /// A command of `hot`.
        case commands
        /// A module of the project, read when completing (`hot __complete modules`).
        case modules
        /// `MODULE:` of a `MODULE:FUNCTION`, the function left to type.
        case moduleTargets
        /// A node named in the project's `hot.json` (`hot __complete nodes`).
        case nodes
        /// A file path.
        case files
        /// A folder path.
        case directories
    }

    let name: String
    let kind: Kind
    let valueName: String
    let help: String
    /// A one-letter alias, e.g. `-j` for `--jobs`.
    let short: Character?
    /// What the value may be; `.none` for a flag.
    let values: Values

    init(_ name: String, _ kind: Kind, valueName: String = "VALUE", short: Character? = nil, values: Values = .none, help: String) {
        self.name = name
        self.kind = kind
        self.valueName = valueName
        self.help = help
        self.short = short
        self.values = values
    }

    /// Its spellings: `--name`, and `-x` when it has a short alias.
    var spellings: [String] { [name] + (short.map { ["-\($0)"] } ?? []) }
}

/// A mistake on the command line: exit status 2.
enum UsageError: Error, Equatable, CustomStringConvertible {
    case unknownCommand(String)
    case unknownOption(String, command: String)
    case missingValue(option: String)
    case unexpectedValue(option: String)
    case missingArgument(String, command: String)
    case extraArgument(String, command: String)
    case invalidValue(option: String, value: String, reason: String)

    var description: String {
        switch self {
        case .unknownCommand(let name): "unknown command '\(name)'; run `hot help` for the list"
        case .unknownOption(let option, let command): "unknown option '\(option)' for `hot \(command)`; run `hot help \(command)`"
        case .missingValue(let option): "option '\(option)' needs a value"
        case .unexpectedValue(let option): "option '\(option)' takes no value"
        case .missingArgument(let name, let command): "`hot \(command)` needs \(name); run `hot help \(command)`"
        case .extraArgument(let argument, let command): "unexpected argument '\(argument)' for `hot \(command)`"
        case .invalidValue(let option, let value, let reason): "invalid value '\(value)' for \(option): \(reason)"
        }
    }
}

/// The options and arguments of one invocation, after parsing.
struct ParsedArguments: Sendable, Equatable {
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    func has(_ flag: String) -> Bool { flags.contains(flag) }
    func value(_ option: String) -> String? { values[option]?.last }
    func all(_ option: String) -> [String] { values[option] ?? [] }
}

/// Parses `arguments` against `options`: one loop, no state besides the result.
/// `--` ends the options; a word like `-5` is an argument, not an option, so
/// that `hot call math:neg -5` works.
func parse(_ arguments: [String], options: [Option], command: String) throws(UsageError) -> ParsedArguments {
    var result = ParsedArguments()
    var index = 0
    var optionsEnded = false
    func lookup(_ word: String) -> Option? {
        if word.hasPrefix("--") { return options.first { $0.name == word } }
        if word.count == 2, let letter = word.last { return options.first { $0.short == letter } }
        return nil
    }
    while index < arguments.count {
        let word = arguments[index]
        index += 1
        if optionsEnded || !word.hasPrefix("-") || word == "-" || isNumber(word) {
            result.positionals.append(word)
            continue
        }
        if word == "--" {
            optionsEnded = true
            continue
        }
        var name = word
        var attached: String?
        if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
            name = String(word[..<equals])
            attached = String(word[word.index(after: equals)...])
        } else if !word.hasPrefix("--"), word.count > 2 {
            // `-j4`: a short option with its value attached.
            name = String(word.prefix(2))
            attached = String(word.dropFirst(2))
        }
        guard let option = lookup(name) else { throw .unknownOption(name, command: command) }
        switch option.kind {
        case .flag:
            guard attached == nil else { throw .unexpectedValue(option: option.name) }
            result.flags.insert(option.name)
        case .value, .repeated:
            let value: String
            if let attached {
                value = attached
            } else {
                guard index < arguments.count else { throw .missingValue(option: option.name) }
                value = arguments[index]
                index += 1
            }
            if option.kind == .value {
                result.values[option.name] = [value]
            } else {
                result.values[option.name, default: []].append(value)
            }
        }
    }
    return result
}

private func isNumber(_ word: String) -> Bool {
    word.count > 1 && word.dropFirst().first.map { $0.isNumber || $0 == "." } == true
}
