#if canImport(Glibc)
import Glibc
#endif
import HotPlatform

extension DriverPlan {
    /// Derives the plan from `swiftc -###` with `job`'s arguments and
    /// `clang -###` with the driver's link line, both run with TMPDIR set to
    /// `scratch` (a new folder, removed after: the driver leaves a
    /// TemporaryDirectory.* in TMPDIR each run). Throws when anything printed
    /// is not accounted for.
    public static func derive(for job: CompileJob, swiftc: String, scratch: String) throws(Unusable) -> DriverPlan {
        do { try makeDirectories(scratch, mode: 0o700) } catch { throw Unusable("cannot make \(scratch): \(error)") }
        defer { removeTree(scratch) }
        let environment = currentEnvironment().filter { !$0.hasPrefix("TMPDIR=") } + ["TMPDIR=\(scratch)"]
        let printed = try printedCommands(swiftc, ["-###"] + job.arguments, environment: environment)
        let lines = printed.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
        var steps: [[String]] = []
        for line in lines {
            guard let words = shellWords(line) else { throw Unusable("cannot split the driver's line: \(line)") }
            steps.append(words)
        }
        guard steps.count == 3,
            lastPathComponent(steps[0][0]) == "swift-frontend", steps[0].count > 1, steps[0][1] == "-frontend",
            lastPathComponent(steps[1][0]) == "swift-autolink-extract",
            lastPathComponent(steps[2][0]) == "clang"
        else {
            throw Unusable("the driver plans steps other than frontend, autolink, link: \(steps.map { lastPathComponent($0.first ?? "") })")
        }
        // The intermediate files are what each step writes with -o into the
        // driver's temporary folder.
        func outputOf(_ step: [String]) -> String? {
            step.lastIndex(of: "-o").flatMap { $0 + 1 < step.count ? step[$0 + 1] : nil }
        }
        guard let object = outputOf(steps[0]), object.hasPrefix(scratch + "/"),
            let list = outputOf(steps[1]), list.hasPrefix(scratch + "/"),
            outputOf(steps[2]) == job.temporaryOutput
        else { throw Unusable("the driver's steps do not write an object, an autolink list and the output") }

        let sources = job.sources + [job.entryFile]
        let moduleName = job.moduleNameValue
        // The supplementary output map the driver passes for three sources or
        // more: read, it must name sources only, each with no output, so an
        // instance can write its own.
        var map: String?
        var supplementary: [Int] = []
        if let at = steps[0].firstIndex(of: "-supplementary-output-file-map"), at + 1 < steps[0].count {
            map = steps[0][at + 1]
            guard let bytes = readFile(steps[0][at + 1]), case .map(let entries)? = try? JSON.parse(bytes) else {
                throw Unusable("cannot read the driver's supplementary output map \(steps[0][at + 1])")
            }
            for (source, outputs) in entries {
                guard let index = sources.firstIndex(of: source), outputs == .map([:]) else {
                    throw Unusable("the driver's supplementary output map asks for outputs: \(source)")
                }
                supplementary.append(index)
            }
            supplementary.sort()
        }
        func template(_ step: [String]) throws(Unusable) -> [String] {
            var out: [String] = []
            var i = 0
            while i < step.count {
                if i + sources.count <= step.count, Array(step[i..<i + sources.count]) == sources {
                    out.append(Self.sources)
                    i += sources.count
                    continue
                }
                let argument = step[i]
                if argument == moduleName {
                    out.append(Self.moduleName)
                } else if argument == map {
                    out.append(Self.outputMap)
                } else {
                    let replaced = argument.replacing(object, with: Self.object).replacing(list, with: Self.autolinkList)
                        .replacing(job.temporaryOutput, with: Self.output)
                    // A response file, a file list or anything else in the
                    // driver's folder is something this template cannot recreate.
                    if replaced.contains(scratch) { throw Unusable("the driver's line names a file it made: \(argument)") }
                    if argument.contains("\n") || argument.contains("\u{1}") { throw Unusable("an argument holds a line break or U+0001") }
                    out.append(replaced)
                }
                i += 1
            }
            return out
        }
        let frontend = try template(steps[0])
        guard frontend.filter({ $0 == Self.sources }).count == 1 else {
            throw Unusable("the sources are not passed to the frontend as given (a file list?)")
        }
        let autolink = try template(steps[1])
        let clangLink = try template(steps[2])

        // The linker's line, from clang's own -### of the link: it checks that
        // its inputs exist, so the object and the list are there for it, the
        // list holding one probe entry to show where clang puts the entries.
        let values = (sources: sources, moduleName: moduleName, object: object, list: list, output: job.temporaryOutput)
        func fill(_ t: [String]) -> [String] {
            Self.fill(t, sources: values.sources, moduleName: values.moduleName, object: values.object,
                      autolink: values.list, output: values.output, map: map ?? "")
        }
        guard fill(frontend) == steps[0], fill(autolink) == steps[1], fill(clangLink) == steps[2] else {
            throw Unusable("the template does not give back the driver's lines")
        }
        do {
            try makeDirectories(parentDirectory(object), mode: 0o700)
            try makeDirectories(parentDirectory(list), mode: 0o700)
            try writeFileAtomically(object, [], durable: false)
            try writeFileAtomically(list, Array("\(entryProbe)\n".utf8), durable: false)
        } catch { throw Unusable("cannot write the probe files: \(error)") }
        let clangPrinted = try printedCommands(steps[2][0], ["-###"] + steps[2].dropFirst(), environment: environment)
        // clang prints its jobs as lines of double-quoted words, one space in front.
        let jobs = clangPrinted.split(separator: "\n").filter { $0.hasPrefix(" \"") }
        guard jobs.count == 1, let words = shellWords(jobs[0]), let linker = words.first,
            lastPathComponent(linker).hasPrefix("ld")
        else { throw Unusable("clang plans other steps than one linker run: \(jobs.count) lines") }
        guard words.filter({ $0 == entryProbe }).count == 1, !words.contains("@" + list) else {
            throw Unusable("clang does not pass the autolink entries to the linker in one place")
        }
        var link = try template(words)
        link = link.map { $0 == entryProbe ? Self.entries : $0 }
        guard fill(link).map({ $0 == Self.entries ? entryProbe : $0 }) == words else {
            throw Unusable("the linker's template does not give back clang's line")
        }
        return DriverPlan(
            frontend: frontend, autolink: autolink, clangLink: clangLink, link: link, supplementary: supplementary,
            originals: [moduleName, parentDirectory(object), parentDirectory(list), scratch])
    }

    /// How long `swiftc -###` may take to print its plan: it only plans,
    /// so a minute means it hangs.
    private static let planTimeout: Duration = .seconds(60)
    /// The most of its output kept: a plan is a few kilobytes of commands.
    private static let planOutputLimit = 1 << 20

    /// What `executable` prints (standard output and error) when it exits 0.
    private static func printedCommands(_ executable: String, _ arguments: [String], environment: [String]) throws(Unusable) -> String {
        let capture: Subprocess.Capture
        do {
            capture = try Subprocess.spawn(executable, Array(arguments), environment: environment)
                .waitCapturing(limit: planOutputLimit, timeout: planTimeout)
        } catch { throw Unusable("cannot run \(executable) -###: \(error)") }
        guard capture.status == 0, !capture.truncated, !capture.timedOut else {
            throw Unusable("\(lastPathComponent(executable)) -### exited with \(capture.status): \(capture.output.prefix(400))")
        }
        return capture.output
    }

    /// The words of a command line as a POSIX shell splits it (single and
    /// double quotes, backslashes), which is how swift-driver escapes its
    /// `-###` lines and clang quotes its own; nil on an unclosed quote or a
    /// character the shell would treat specially ($, `, globs, redirections).
    static func shellWords(_ line: Substring) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            switch c {
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                while true {
                    guard let q = chars.next() else { return nil }
                    if q == "'" { break }
                    word.append(q)
                }
            case "\"":
                inWord = true
                while true {
                    guard let q = chars.next() else { return nil }
                    if q == "\"" { break }
                    if q == "\\" {
                        guard let e = chars.next() else { return nil }
                        if !"\"\\$`".contains(e) { word.append("\\") }
                        word.append(e)
                    } else if q == "$" || q == "`" {
                        return nil
                    } else {
                        word.append(q)
                    }
                }
            case "\\":
                guard let e = chars.next() else { return nil }
                inWord = true
                word.append(e)
            case "$", "`", "*", "?", "[", "|", "&", ";", "<", ">", "(", ")":
                return nil
            case "~" where !inWord, "#" where !inWord:
                return nil
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
