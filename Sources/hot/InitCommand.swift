#if canImport(Glibc)
import Glibc
#endif
import HotBuild
import HotPlatform

/// `hot init [DIR]`.
let initCommand = Command(
    name: "init", summary: "make a new hot project (hot.json, modules/hello, a git repository)",
    usage: "init [DIR]",
    details: """
        Writes hot.json, modules/hello/hello.swift and a .gitignore holding .hot/ into DIR
        (default: the current folder), and makes DIR a git repository with a first commit
        unless it already lies inside one.
        """,
    options: [], arguments: 0...1
) { (args) throws(CommandError) in
    let dir = absolutePath(args.positionals.first ?? ".")
    if fileExists(dir + "/hot.json") { throw .failed("\(dir) is already a hot project (hot.json exists)") }
    let templates = try templatesDirectory() + "/project"
    do { try makeDirectories(dir) } catch { throw .failed("cannot create \(dir): \(error)") }
    let name = projectName(for: dir)
    do {
        try copyTemplate(from: templates, to: dir, name: name)
    } catch {
        throw .failed("cannot write the project into \(dir): \(error)")
    }
    var committed = false
    do {
        if (try? Repository.discover(from: dir)) == nil {
            let repository = try Repository.create(at: dir)
            try repository.addAll()
            _ = try repository.commit(message: "New hot project \(name)")
            committed = true
        }
    } catch {
        throw .failed("project written, but git failed: \(error)")
    }
    print("made hot project '\(name)' in \(dir)\(committed ? " (new git repository, first commit)" : "")")
    print("next: cd \(dir) && hot start && hot call hello:greet bob")
}

/// Where `hot init` finds its templates: HOT_TEMPLATES, an installed tree
/// (`../share/hot/templates`), or the source tree above the executable.
func templatesDirectory() throws(CommandError) -> String {
    var candidates: [String] = []
    if let env = getenv("HOT_TEMPLATES") { candidates.append(String(cString: env)) }
    var dir = executableDirectory()
    candidates.append(parentDirectory(dir) + "/share/hot/templates")
    for _ in 0..<5 {
        dir = parentDirectory(dir)
        candidates.append(dir + "/templates")
    }
    for candidate in candidates where fileExists(candidate + "/project/hot.json") { return candidate }
    throw .failed("project templates not found (looked in \(candidates.joined(separator: ", "))); reinstall hot or set HOT_TEMPLATES")
}

/// A project name from a folder name: lowercase letters, digits and `_`.
func projectName(for dir: String) -> String {
    let base = dir.split(separator: "/").last.map(String.init) ?? "app"
    var name = String(base.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    if name.first?.isLetter != true { name = "app_" + name }
    return name
}

/// Copies a template tree, writing `{{name}}` as the project's name. A file
/// named `gitignore` becomes `.gitignore` (a dot file in the template folder
/// would act on the source tree itself).
private func copyTemplate(from source: String, to destination: String, name: String) throws(SystemError) {
    for entry in listDirectory(source).sorted() {
        let from = source + "/" + entry
        let to = destination + "/" + (entry == "gitignore" ? ".gitignore" : entry)
        if isDirectory(from) {
            try makeDirectories(to)
            try copyTemplate(from: from, to: to, name: name)
        } else {
            guard let bytes = readFile(from) else { throw SystemError("read \(from)") }
            var text = String(decoding: bytes, as: UTF8.self)
            text = text.replacing("{{name}}", with: name)
            try writeFileAtomically(to, Array(text.utf8))
        }
    }
}
