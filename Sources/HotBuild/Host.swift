#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject

/// Why the host a project names cannot be compiled against.
public enum HostError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A line of the build description that could not be read.
    public struct Reason: Error, Sendable, Equatable {
        /// Its line number.
        public let line: Int
        /// What was wrong with it.
        public let text: String
    }

    /// The host has no build description or executable yet.
    case notBuilt(package: String, product: String, command: String)
    /// The build description links no executable of that name.
    case noProduct(package: String, product: String, description: String)
    /// The build description could not be read.
    case unreadableDescription(path: String, reason: Reason)
    /// A module of the host is newer than its executable: a build that did not finish.
    case outOfDate(package: String, product: String, module: String, command: String)
    /// A source of the host is newer than its executable: the host was
    /// edited and not built since, or its last build failed.
    case sourceNewer(package: String, product: String, file: String, command: String)
    /// A file of the host could not be read, or `.hot/host/` written.
    case system(SystemError)
    /// A node runs a build of the host that `.build` no longer holds and
    /// that was not kept (hot never read it, or it was among the oldest).
    case runningNotKept(node: String, running: String, built: String, product: String)

    public var description: String {
        switch self {
        case .notBuilt(let package, let product, let command):
            "the host \(product) in \(package) is not built yet: run `\(command)` in \(package)"
        case .noProduct(let package, let product, let description):
            "\(description) links no executable named \(product): check hot.json's host.product, or run `swift build --product \(product)` in \(package)"
        case .unreadableDescription(let path, let reason):
            "\(path):\(reason.line): \(reason.text); run swift build again to rewrite it"
        case .outOfDate(let package, let product, let module, let command):
            "the host's module \(module) is newer than its executable \(product) (did its last build fail?): run `\(command)` in \(package)"
        case .sourceNewer(let package, let product, let file, let command):
            "the host's source \(file) is newer than its executable \(product) (not built since, or its last build failed): run `\(command)` in \(package), then build again"
        case .system(let error): error.description
        case .runningNotKept(let node, let running, let built, let product):
            "\(node) runs a build of the host (\(running.prefix(12))) that hot did not keep, and .build holds another (\(built.prefix(12))): restart the app (`swift run \(product)`) so that it runs the build in .build, which boots its built-in versions, then `hot deploy`; nothing was built or deployed"
        }
    }
}

/// What a hot module compiles against when the project names a host: a
/// folder holding only the Swift modules the host's executable links, the
/// flags that let the compiler see the C modules they import, and the
/// fingerprint of that build of the executable (docs/ARCHITECTURE.md, "Host modules").
public struct HostBuild: Codable, Sendable, Equatable {
    /// The executable's fingerprint (`HostFingerprint`).
    public let fingerprint: String
    /// The executable.
    public let executable: String
    /// The linked Swift modules: name → `.swiftmodule` path.
    public let modules: [String: String]
    /// `-Xcc` flags for the linked modules' C modules.
    public let clangFlags: [String]
    /// The folder of links to the linked modules, given to swiftc as `-I`.
    public let modulesDirectory: String
    /// The sizes and times of the description and the executable this was read from.
    let stamp: String
    /// The Swift sources of the linked modules, each with the dependency
    /// file its compile writes ("" when the description names none): a
    /// source newer than the executable and than that file was not compiled since.
    var sources: [String: String] = [:]
    /// The linked modules whose sources are the host package's own (not a
    /// dependency's, nor a built-in hot module's): what `hot watch` patches
    /// (docs/ARCHITECTURE.md, "Patching the host").
    public var ownModules: [OwnModule] { own ?? [] }
    /// `ownModules` as recorded: absent from a build hot read or kept
    /// before it recorded them.
    var own: [OwnModule]? = nil

    /// A module of the host's own package, as its compile command says.
    public struct OwnModule: Codable, Sendable, Equatable {
        /// Its Swift module name.
        public let name: String
        /// Its sources, absolute.
        public let sources: [String]
        /// Compiled so that patches can replace its code: implicit dynamic
        /// replacement, testing and private imports (the `patchable`
        /// setting of docs/RELOADING.md).
        public let patchable: Bool
        /// Its language mode (`-swift-version`), which a patch of it keeps.
        public let swiftVersion: String?
    }

    /// Reads the host's build description, or the copy cached in
    /// `.hot/host/` when neither it nor the executable changed since, and
    /// makes `.hot/host/Modules/` hold links to exactly the linked modules.
    public static func resolve(_ config: HostConfig, project: Project) throws(HostError) -> HostBuild {
        let package = config.package.hasPrefix("/") ? config.package : project.root + "/" + config.package
        let command = "swift build --product \(config.product)" + (config.configuration == .release ? " -c release" : "")
        let descriptionPath = "\(package)/.build/\(config.configuration.rawValue).yaml"
        let files = project.layout.host
        let cachePath = files.cachePath
        // What was read depends on which product of which build as much as
        // on the files: a changed hot.json must not reuse it.
        guard let fileStamp = stampOf(descriptionPath) else {
            throw .notBuilt(package: config.package, product: config.product, command: command)
        }
        let descriptionStamp = "\(package) \(config.product) \(config.configuration.rawValue) \(fileStamp)"
        var build: HostBuild
        if let cached = readFile(cachePath).flatMap({ try? TermDecoder().decode(HostBuild.self, from: JSON.parse($0)) }),
            let executableStamp = stampOf(cached.executable), cached.stamp == descriptionStamp + " " + executableStamp,
            isDirectory(cached.modulesDirectory)
        {
            build = cached
        } else {
            build = try read(
                descriptionPath, config: config, package: package, command: command, files: files, descriptionStamp: descriptionStamp,
                hotModules: realPath(project.modulesDirectory) ?? project.modulesDirectory)
            do {
                try project.makeHotDirectory()
                try makeDirectories(files.directory)
                try linkModules(build.modules, into: build.modulesDirectory)
                let term = (try? TermEncoder().encode(build)) ?? .null
                try writeFileAtomically(cachePath, Array(JSON.render(term).utf8), durable: false)
            } catch {
                throw .system(error)
            }
        }
        let hotModules = realPath(project.modulesDirectory) ?? project.modulesDirectory
        try build.checkCurrent(package: config.package, product: config.product, command: command, root: package, hotModules: hotModules)
        // Best effort: a build that cannot be kept is only refused later, if an app still runs it after a rebuild.
        try? build.keep(files)
        return build
    }

    /// The host build that an app started from `.build` still runs after
    /// `.build` was rebuilt: the one with `fingerprint` that `resolve` kept,
    /// nil when none was (docs/ARCHITECTURE.md, "Host modules").
    public static func kept(_ fingerprint: String, project: Project) -> HostBuild? {
        kept(fingerprint, in: project.layout.host)
    }

    static func kept(_ fingerprint: String, in files: HostFiles) -> HostBuild? {
        let folder = files.kept(fingerprint)
        guard let text = readFile(folder + "/build.json"),
            let build = try? TermDecoder().decode(HostBuild.self, from: JSON.parse(text)),
            build.fingerprint == fingerprint, isDirectory(build.modulesDirectory)
        else { return nil }
        return build
    }

    /// How many host builds `.hot/host/builds/` keeps: an app rebuilt more
    /// often than this without a restart is told to restart.
    static let keptBuilds = 4

    /// Keeps this build's modules under its fingerprint, as hard links (a
    /// copy across file systems): `swift build` writes each module it
    /// compiles again as a new file, so the links keep the ones this build
    /// made. Made under a temporary name and renamed into place whole; the
    /// oldest kept builds beyond `keptBuilds` are removed.
    func keep(_ files: HostFiles) throws(SystemError) {
        let folder = files.kept(fingerprint)
        if isDirectory(folder) { return }
        try makeDirectories(files.keptDirectory)
        let staging = folder + ".tmp-\(getpid())"
        removeTree(staging)
        defer { removeTree(staging) }
        try makeDirectories(staging + "/Modules")
        for (name, path) in modules {
            let target = "\(staging)/Modules/\(name).swiftmodule"
            if link(path, target) == 0 { continue }
            guard let bytes = readFile(path) else { throw SystemError("read \(path)") }
            try writeFileAtomically(target, bytes, durable: false)
        }
        // The sources this build was made from: what a patch is planned
        // against while an app runs it. `resolve` keeps a build only after
        // checking that no source is newer than it.
        for module in ownModules {
            for source in module.sources {
                guard let bytes = readFile(source) else { continue }
                let copy = staging + "/sources" + source
                try makeDirectories(parentDirectory(copy))
                try writeFileAtomically(copy, bytes, durable: false)
            }
        }
        var kept = HostBuild(
            fingerprint: fingerprint, executable: executable, modules: modules, clangFlags: clangFlags,
            modulesDirectory: folder + "/Modules", stamp: stamp, sources: sources)
        kept.own = own
        let term = (try? TermEncoder().encode(kept)) ?? .null
        try writeFileAtomically(staging + "/build.json", Array(JSON.render(term).utf8), durable: false)
        // Another hot that kept the same build first has made the same folder.
        guard rename(staging, folder) == 0 || isDirectory(folder) else { throw SystemError("rename \(staging)") }
        let builds = listDirectory(files.keptDirectory).filter { !$0.contains(".tmp-") }.map { files.keptDirectory + "/" + $0 }
        let newestFirst = builds.map { ($0, Self.modificationTime($0 + "/build.json") ?? timespec()) }
            .sorted { ($0.1.tv_sec, $0.1.tv_nsec) > ($1.1.tv_sec, $1.1.tv_nsec) }.map(\.0)
        for old in newestFirst.dropFirst(Self.keptBuilds) where old != folder { removeTree(old) }
    }

    private static func read(
        _ path: String, config: HostConfig, package: String, command: String, files: HostFiles, descriptionStamp: String,
        hotModules: String
    ) throws(HostError) -> HostBuild {
        guard let bytes = readFile(path) else { throw .notBuilt(package: config.package, product: config.product, command: command) }
        let description: BuildDescription
        do { description = try BuildDescription(parsing: String(decoding: bytes, as: UTF8.self)) } catch {
            throw .unreadableDescription(path: path, reason: error)
        }
        guard let link = description.link(of: config.product), let executable = link.value(of: "-o") else {
            throw .noProduct(package: config.package, product: config.product, description: "\(config.package)/.build/\(config.configuration.rawValue).yaml")
        }
        guard let executableStamp = stampOf(executable) else {
            throw .notBuilt(package: config.package, product: config.product, command: command)
        }
        let linked = description.swiftModules(linkedBy: link)
        let fingerprint: String
        do { fingerprint = try HostFingerprint.of(executable: executable) } catch { throw .system(error) }
        var build = HostBuild(
            fingerprint: fingerprint, executable: executable,
            modules: Dictionary(linked.map { ($0.name, $0.path) }, uniquingKeysWith: { first, _ in first }),
            clangFlags: BuildDescription.clangImportFlags(of: linked), modulesDirectory: files.modulesDirectory,
            stamp: descriptionStamp + " " + executableStamp, sources: compiledSources(linked))
        build.own = ownModules(linked, package: package, hotModules: hotModules)
        return build
    }

    /// The linked modules whose sources lie in the package itself, outside
    /// its `.build` and the project's hot modules.
    private static func ownModules(_ linked: [BuildDescription.SwiftModule], package: String, hotModules: String) -> [OwnModule] {
        let root = (realPath(package) ?? package) + "/"
        return linked.compactMap { module in
            let sources = module.command.inputs.filter { $0.hasSuffix(".swift") }
            guard !sources.isEmpty,
                sources.allSatisfy({ $0.hasPrefix(root) && !$0.hasPrefix(root + ".build/") && !$0.hasPrefix(hotModules + "/") })
            else { return nil }
            let args = module.command.args
            let patchable = PatchableSetting.frontendFlags.allSatisfy(args.contains)
            return OwnModule(name: module.name, sources: sources, patchable: patchable, swiftVersion: module.command.value(of: "-swift-version"))
        }.sorted { $0.name < $1.name }
    }

    /// The source a kept build was made from, or nil.
    public func keptSource(_ path: String, project: Project) -> String? {
        readFile(project.layout.host.kept(fingerprint) + "/sources" + path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Each Swift source of `modules` and the dependency file the compiler
    /// writes each time it compiles it (`X.d` beside the object `X.swift.o`).
    private static func compiledSources(_ modules: [BuildDescription.SwiftModule]) -> [String: String] {
        var sources: [String: String] = [:]
        for module in modules {
            let objects = module.command.outputs.filter { $0.hasSuffix(".o") }
            for source in module.command.inputs where source.hasSuffix(".swift") {
                let name = lastPathComponent(source)
                let object = objects.first { lastPathComponent($0) == name + ".o" }
                sources[source] = object.map { parentDirectory($0) + "/" + name.dropLast(".swift".count) + ".d" } ?? ""
            }
        }
        return sources
    }

    /// Refuses a host whose modules were compiled after its executable was
    /// linked, or whose sources changed since: modules built against them
    /// would carry the fingerprint of an executable that does not hold
    /// their code, or be compiled against declarations the sources no
    /// longer make (a failed host build leaves both behind).
    /// The sources under `hotModules` are left out: they are the built-in
    /// versions' (docs/ARCHITECTURE.md, "Built-in versions"), which nothing
    /// in the host imports, and an edit to one is what `hot deploy` builds
    /// over the built-in version, not a host out of date.
    private func checkCurrent(package: String, product: String, command: String, root: String, hotModules: String) throws(HostError) {
        var info = stat()
        guard stat(executable, &info) == 0 else { throw .notBuilt(package: package, product: product, command: command) }
        let linked = info.st_mtim
        func newer(_ path: String) -> Bool? {
            var file = stat()
            guard stat(path, &file) == 0 else { return nil }
            let m = file.st_mtim
            return m.tv_sec > linked.tv_sec || (m.tv_sec == linked.tv_sec && m.tv_nsec > linked.tv_nsec)
        }
        for (name, path) in modules.sorted(by: { $0.key < $1.key }) where newer(path) != false {
            throw .outOfDate(package: package, product: product, module: name, command: command)
        }
        // A source deleted since is the build's business, not a staleness
        // this can judge: only the ones still there are compared. A source
        // only touched is compiled again to the same object, and the link
        // is not run again: its dependency file, written by that compile,
        // says it was built.
        for (source, dependencies) in sources.sorted(by: { $0.key < $1.key })
        where newer(source) == true && !source.hasPrefix(hotModules + "/") {
            if !dependencies.isEmpty, let compiled = Self.modificationTime(dependencies), let edited = Self.modificationTime(source),
                compiled.tv_sec > edited.tv_sec || (compiled.tv_sec == edited.tv_sec && compiled.tv_nsec >= edited.tv_nsec)
            {
                continue
            }
            throw .sourceNewer(package: package, product: product, file: relativePath(source, to: root), command: command)
        }
    }

    private static func modificationTime(_ path: String) -> timespec? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mtim : nil
    }

    /// `path` relative to `folder` when it lies inside it.
    private func relativePath(_ path: String, to folder: String) -> String {
        let prefix = (realPath(folder) ?? folder) + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Makes `folder` hold one link per module and nothing else, so that an
    /// import of a module the host does not link finds nothing.
    private static func linkModules(_ modules: [String: String], into folder: String) throws(SystemError) {
        removeTree(folder)
        try makeDirectories(folder)
        for (name, path) in modules {
            guard symlink(path, "\(folder)/\(name).swiftmodule") == 0 else { throw SystemError("symlink \(path)") }
        }
    }

    /// A file's size and modification time, or nil when it does not exist.
    private static func stampOf(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// The modules named in a compiler's output as `no such module 'X'`.
    public static func missingModules(in output: String) -> [String] {
        var names: [String] = []
        var rest = output[...]
        while let range = rest.firstRange(of: "no such module '") {
            let after = rest[range.upperBound...]
            guard let end = after.firstIndex(of: "'") else { break }
            let name = String(after[..<end])
            if !names.contains(name) { names.append(name) }
            rest = after[end...]
        }
        return names
    }
}
