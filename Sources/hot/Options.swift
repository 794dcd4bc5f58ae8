/// One command-line option, as data (the shape of swift-driver's option
/// table). Each is a static constant (`Option.json`), declared by the
/// commands that take it and read back by the same constant
/// (`args.has(.json)`), so a misspelt option does not compile.
struct Option: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
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
    /// A command `hot` does not have, and the one spelt most like it, if any is close.
    case unknownCommand(String, nearest: String? = nil)
    /// An option the command does not take, and the one of its options spelt most like it.
    case unknownOption(String, command: String, nearest: String? = nil)
    case missingValue(option: String)
    case unexpectedValue(option: String)
    case missingArgument(String, command: String)
    case extraArgument(String, command: String)
    case invalidValue(option: String, value: String, reason: String)

    var description: String {
        switch self {
        case .unknownCommand(let name, let nearest?): "unknown command '\(name)'; did you mean '\(nearest)'?"
        case .unknownCommand(let name, nil): "unknown command '\(name)'; run `hot help` for the list"
        case .unknownOption(let option, let command, let nearest?): "unknown option '\(option)' for `hot \(command)`; did you mean '\(nearest)'?"
        case .unknownOption(let option, let command, nil): "unknown option '\(option)' for `hot \(command)`; run `hot help \(command)`"
        case .missingValue(let option): "option '\(option)' needs a value"
        case .unexpectedValue(let option): "option '\(option)' takes no value"
        case .missingArgument(let name, let command): "`hot \(command)` needs \(name); run `hot help \(command)`"
        case .extraArgument(let argument, let command): "unexpected argument '\(argument)' for `hot \(command)`"
        case .invalidValue(let option, let value, let reason): "invalid value '\(value)' for \(option): \(reason)"
        }
    }
}

/// The options and arguments of one invocation, after parsing. An option
/// is read by its constant, and only one the command declares may be read:
/// reading another is a mistake in `hot` itself, not in the command line,
/// and traps (it would otherwise read as never given).
struct ParsedArguments: Sendable, Equatable {
    /// The options the command declares.
    let declared: [Option]
    /// The flags given, by name.
    private(set) var flags: Set<String> = []
    /// The values given, by option name, in order.
    private(set) var values: [String: [String]] = [:]
    var positionals: [String] = []

    /// Nothing given yet, for a command that declares `options`.
    init(declaring options: [Option]) { declared = options }

    /// Whether the flag was given.
    func has(_ flag: Option) -> Bool {
        checkDeclared(flag, reading: [.flag])
        return flags.contains(flag.name)
    }

    /// The option's value, the last one given; nil when it was not given.
    func value(_ option: Option) -> String? {
        checkDeclared(option, reading: [.value, .repeated])
        return values[option.name]?.last
    }

    /// Every value given to the option, in order.
    func all(_ option: Option) -> [String] {
        checkDeclared(option, reading: [.value, .repeated])
        return values[option.name] ?? []
    }

    fileprivate mutating func record(_ option: Option, value: String?) {
        if let value {
            if option.kind == .value { values[option.name] = [value] } else { values[option.name, default: []].append(value) }
        } else {
            flags.insert(option.name)
        }
    }

    private func checkDeclared(_ option: Option, reading kinds: [Option.Kind]) {
        precondition(declared.contains(option), "\(option.name) is read by a command that does not declare it")
        precondition(kinds.contains(option.kind), "\(option.name) is a \(option.kind), read as another kind")
    }
}

/// Parses `arguments` against `options`: one loop, no state besides the result.
/// `--` ends the options; a word like `-5` is an argument, not an option, so
/// that `hot call math:neg -5` works.
func parse(_ arguments: [String], options: [Option], command: String) throws(UsageError) -> ParsedArguments {
    var result = ParsedArguments(declaring: options)
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
        guard let option = lookup(name) else {
            let nearest = name.hasPrefix("--") ? nearestSpelling(to: name, among: options.map(\.name)) : nil
            throw .unknownOption(name, command: command, nearest: nearest)
        }
        switch option.kind {
        case .flag:
            guard attached == nil else { throw .unexpectedValue(option: option.name) }
            result.record(option, value: nil)
        case .value, .repeated:
            let value: String
            if let attached {
                value = attached
            } else {
                guard index < arguments.count else { throw .missingValue(option: option.name) }
                value = arguments[index]
                index += 1
            }
            result.record(option, value: value)
        }
    }
    return result
}

private func isNumber(_ word: String) -> Bool {
    word.count > 1 && word.dropFirst().first.map { $0.isNumber || $0 == "." } == true
}

/// The word of `candidates` spelt most like `word`, when it is near enough
/// to be the one meant: at most one edit (a letter added, dropped, changed,
/// or two swapped) per three letters, and at least one. Nil when none is,
/// or when two are equally near.
func nearestSpelling(to word: String, among candidates: [String]) -> String? {
    let bare = Array(word.drop { $0 == "-" })
    let allowed = max(1, bare.count / 3)
    let scored = candidates.map { ($0, editDistance(bare, Array($0.drop { $0 == "-" }))) }.filter { $0.1 <= allowed }
    guard let best = scored.map(\.1).min() else { return nil }
    let nearest = scored.filter { $0.1 == best }
    return nearest.count == 1 ? nearest[0].0 : nil
}

/// The edits from `a` to `b`: insertions, deletions, substitutions, and
/// swaps of two neighbours (optimal string alignment distance).
private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { best = min(best, table[i - 2][j - 2] + 1) }
            table[i][j] = best
        }
    }
    return table[a.count][b.count]
}
