#if canImport(Glibc)
import Glibc
#endif
import HotBuild
import HotPlatform

/// `hot init [DIR] [--template project|hummingbird|vapor]`.
let initCommand = Command(
    name: "init", summary: "make a new hot project (hot.json, modules, a git repository)",
    usage: "init [DIR] [--template project|hummingbird|vapor] [--hot-package DIR]",
    details: """
        Writes a project into DIR (default: the current folder) and makes DIR a git
        repository with a first commit unless it already lies inside one.

        --template project (the default): hot.json, modules/hello/hello.swift and a
        .gitignore holding .hot/; `hot start` runs a node for it.

        --template hummingbird: a Hummingbird app that is itself the node: Package.swift,
        Sources/App (the app, which runs a Hot node beside its routes), Sources/Server, Tests/AppTests, Sources/Shared
        (types the app and its modules share), modules/routes (two handlers, a slow one,
        and a counter server) and a README with the first steps.

        --template vapor: the same app on Vapor: Package.swift, Sources/App (the app,
        whose node is a lifecycle handler), Sources/Server, Tests/AppTests, Sources/Shared, modules/routes
        (handlers, a middleware, a responder for /api and a counter server) and a README.

        An app template's Package.swift depends on Hot's package by path: --hot-package
        DIR, else HOT_PACKAGE, else the source tree this hot was built in, else the
        installed copy (../share/hot/package).
        """,
    options: [.template, .hotPackage],
    arguments: 0...1, argumentValues: [.directories]
) { (args) throws(CommandError) in
    let dir = absolutePath(args.positionals.first ?? ".")
    let template = args.value(.template) ?? "project"
    guard templateNames.contains(template) else {
        throw .usage(.invalidValue(option: Option.template.name, value: template, reason: "use project, hummingbird or vapor"))
    }
    if fileExists(dir + "/hot.json") { throw .failed("\(dir) is already a hot project (hot.json exists)") }
    let templates = try templatesDirectory() + "/" + template
    let name = projectName(for: dir)
    var values = ["name": name]
    if appTemplates.contains(template) {
        let package = try hotPackageDirectory(given: args.value(.hotPackage))
        values["hot_package"] = package
        values["hot_identity"] = packageIdentity(of: package)
        if fileExists(dir + "/Package.swift") { throw .failed("\(dir) already holds a Package.swift; pick an empty folder") }
    }
    do { try makeDirectories(dir) } catch { throw .failed("cannot create \(dir): \(error)") }
    do {
        try copyTemplate(from: templates, to: dir, values: values)
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
    if appTemplates.contains(template) {
        print("next: cd \(dir) && swift build && .build/debug/Server   (then see README.md)")
    } else {
        print("next: cd \(dir) && hot start && hot call hello:greet bob")
    }
}

/// The templates `hot init --template` writes, each a folder of the templates directory.
let templateNames = ["project", "hummingbird", "vapor"]

/// The templates that write an app which is its own node, depending on Hot's package.
let appTemplates: Set = ["hummingbird", "vapor"]

/// The folder of Hot's own package, which an app template's Package.swift
/// depends on by path.
func hotPackageDirectory(given: String?) throws(CommandError) -> String {
    func isHotPackage(_ folder: String) -> Bool {
        fileExists(folder + "/Package.swift") && isDirectory(folder + "/Sources/HotHummingbird")
    }
    if let given {
        guard isHotPackage(absolutePath(given)) else {
            throw .failed("\(given) is not Hot's package folder (no Package.swift with Sources/HotHummingbird)")
        }
        return absolutePath(given)
    }
    let candidates = shippedFolders(variable: "HOT_PACKAGE", installed: "package", inSourceTree: "").map(absolutePath)
    // Hot's package is the one with the HotHummingbird target.
    for candidate in candidates where isHotPackage(candidate) { return candidate }
    throw .failed("Hot's package not found (looked in \(candidates.joined(separator: ", "))); pass --hot-package DIR or set HOT_PACKAGE")
}

/// SwiftPM's identity of a package depended on by path: its folder's name, lowercased.
func packageIdentity(of folder: String) -> String {
    lastPathComponent(folder).lowercased()
}

/// Where `hot init` finds its templates: HOT_TEMPLATES, an installed tree
/// (`../share/hot/templates`), or the source tree above the executable.
func templatesDirectory() throws(CommandError) -> String {
    let candidates = shippedFolders(variable: "HOT_TEMPLATES", installed: "templates", inSourceTree: "/templates")
    for candidate in candidates where fileExists(candidate + "/project/hot.json") { return candidate }
    throw .failed("project templates not found (looked in \(candidates.joined(separator: ", "))); reinstall hot or set HOT_TEMPLATES")
}

/// Where something shipped with hot may be, in order: the folder `variable`
/// names, the installed tree (`../share/hot/INSTALLED` beside the
/// executable's folder), then the source tree the executable was built in
/// (each of the five folders above it, with `inSourceTree` appended).
private func shippedFolders(variable: String, installed: String, inSourceTree: String) -> [String] {
    var candidates: [String] = []
    if let env = getenv(variable) { candidates.append(String(cString: env)) }
    var dir = executableDirectory()
    candidates.append(parentDirectory(dir) + "/share/hot/" + installed)
    for _ in 0..<5 {
        dir = parentDirectory(dir)
        candidates.append(dir + inSourceTree)
    }
    return candidates
}

/// A project name from a folder name: lowercase letters, digits and `_`.
func projectName(for dir: String) -> String {
    // The folder's own name: `.` and `..` are read as the path means them,
    // so `hot init` in a folder named `shop` names the project `shop`.
    var parts: [Substring] = []
    for part in dir.split(separator: "/") where part != "." {
        if part == ".." { _ = parts.popLast() } else { parts.append(part) }
    }
    let base = parts.last.map(String.init) ?? "app"
    var name = String(base.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    if name.first?.isLetter != true { name = "app_" + name }
    return name
}

/// Copies a template tree, writing each `{{key}}` as its value (`{{name}}`:
/// the project's name). A file named `gitignore` becomes `.gitignore` (a dot
/// file in the template folder would act on the source tree itself).
private func copyTemplate(from source: String, to destination: String, values: [String: String]) throws(SystemError) {
    for entry in listDirectory(source).sorted() {
        let from = source + "/" + entry
        let to = destination + "/" + (entry == "gitignore" ? ".gitignore" : entry)
        if isDirectory(from) {
            try makeDirectories(to)
            try copyTemplate(from: from, to: to, values: values)
        } else {
            guard let bytes = readFile(from) else { throw SystemError("read \(from)") }
            var text = String(decoding: bytes, as: UTF8.self)
            for (key, value) in values { text = text.replacing("{{\(key)}}", with: value) }
            try writeFileAtomically(to, Array(text.utf8))
        }
    }
}

extension Option {
    static let template = Option("--template", .value, valueName: "NAME", values: .fixed(templateNames), help: "project (default), hummingbird or vapor")
    static let hotPackage = Option(
        "--hot-package", .value, valueName: "DIR", values: .directories, help: "Hot's package folder, which the app depends on (hummingbird and vapor templates, adopt)")
}
