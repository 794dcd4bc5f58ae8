import Foundation
import HotBuild
import Testing

extension ChangeDetectionTests {
    @Test("a build stopped by SIGINT leaves no partial artifact and nothing unrecorded",
          arguments: ["direct", "driver"])
    func interruptedBuild(_ way: String) throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let names = (1...7).map { "m\($0)" }
        let repo = try TestRepo(scratch, modules: names)
        // Locates the toolchain once (cached in .hot/), so the builds below are compiling when interrupted.
        #expect(try repo.changed().modules.count == names.count)

        // While the first compilers run.
        let environment = ["HOT_BUILD_DRIVER": way == "driver" ? "1" : ""]
        let early = try repo.interruptedBuild(environment: environment) { usleep(400_000) }
        #expect(early.interrupted, "\(early.description)")
        try repo.expectNoPartialArtifacts("interrupted after 0.4 s")

        // As soon as the first module is in place, while the others still compile.
        let late = try repo.interruptedBuild(environment: environment) {
            let deadline = Date().addingTimeInterval(60)
            while repo.artifacts().isEmpty && Date() < deadline { usleep(10_000) }
        }
        #expect(late.interrupted, "\(late.description)")
        try repo.expectNoPartialArtifacts("interrupted after the first artifact")

        if way == "direct" {
            // Between the frontend and the link, while an object file waits for the linker.
            let linking = try repo.interruptedBuild(environment: environment) {
                let deadline = Date().addingTimeInterval(60)
                while !repo.hasObjectFile() && Date() < deadline { usleep(1_000) }
            }
            #expect(linking.interrupted, "\(linking.description)")
            try repo.expectNoPartialArtifacts("interrupted with an object file waiting for the linker")
        }

        // The next build completes, and leaves only what it records.
        let done = try repo.build()
        #expect(done.modules.map(\.name) == names.sorted())
        #expect(done.modules.allSatisfy { $0.status == "built" || $0.status == "cached" }, "\(done.modules)")
        try repo.expectNoPartialArtifacts("after a whole build")
    }

    @Test("hot changed and hot build never run git", .enabled(if: Strace.path != nil, Strace.unavailable))
    func noGitProcess() throws {
        let strace = try #require(Strace.path)
        let scratch = try Scratch()
        defer { scratch.close() }
        let repo = try TestRepo(scratch, modules: ["a"])
        try repo.write("modules/a/a.swift", moduleSource("a", 2))
        let runs: [[String]] = [["changed", "--since", "HEAD"], ["changed"], ["build"]]
        var programs: [String] = []
        for (index, arguments) in runs.enumerated() {
            let trace = scratch.path("trace-\(index).txt")
            let outcome = try scratch.run(strace, ["-f", "-qq", "-e", "trace=execve", "-o", trace, Binaries.hot] + arguments,
                                          in: repo.path(""))
            #expect(outcome.status == 0, "hot \(arguments.joined(separator: " ")): \(outcome)")
            let text = try String(contentsOfFile: trace, encoding: .utf8)
            programs += Strace.executed(text)
        }
        #expect(programs.contains(Binaries.hot))
        #expect(programs.contains { ($0 as NSString).lastPathComponent.hasPrefix("swift") },
                "the build's compiler must show in the trace (else strace -f saw no child): \(programs)")
        let git = programs.filter { ($0 as NSString).lastPathComponent == "git" || ($0 as NSString).lastPathComponent.hasPrefix("git-") }
        #expect(git.isEmpty, "git was run: \(git)")
    }
}

/// strace, if it is here or can be installed (as root, with apt-get) and may trace.
enum Strace {
    static let unavailable: Comment = "strace is not installed and cannot be installed here (needs root and apt-get), or ptrace is not allowed"

    static let path: String? = {
        if let found = lookUp(), works(found) { return found }
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") else { return nil }
        _ = try? Scratch.quietRun("/usr/bin/apt-get", ["install", "-y", "-q", "strace"])
        guard let found = lookUp(), works(found) else { return nil }
        return found
    }()

    private static func lookUp() -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return (folders.map { "\($0)/strace" } + ["/usr/bin/strace"]).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func works(_ strace: String) -> Bool {
        (try? Scratch.quietRun(strace, ["-f", "-o", "/dev/null", "/bin/true"])) == 0
    }

    /// The programs of the successful execve calls in an strace log.
    static func executed(_ log: String) -> [String] {
        log.split(separator: "\n").compactMap { line -> String? in
            guard let call = line.range(of: "execve(\""), !line.contains("= -1") else { return nil }
            let rest = line[call.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }
    }
}

extension Scratch {
    /// Runs a program with its output discarded; returns its exit status.
    static func quietRun(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

// MARK: - Projects in repositories

/// A module that compiles on its own; a new `tag` makes a new content key.
func moduleSource(_ name: String, _ tag: Int) -> String {
    """
    import Hot

    // \(name), edition \(tag)
    let module = HotModule(exports: [.function("tag", { () -> String in "\(name) \(tag)" })])

    """
}

/// Writes `path` (absolute), making its folders.
func writeFile(_ path: String, _ text: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// Writes hot.json, .gitignore (`.hot/`) and `modules/<m>/<m>.swift` for each
/// module into `folder` (relative to the scratch root), then `extraFiles`.
func writeProject(_ scratch: Scratch, folder: String, modules: [String], include: [String] = [], extraFiles: [String: String] = [:]) throws {
    let includes = include.map { "\"\($0)\"" }.joined(separator: ", ")
    try writeFile(scratch.path(folder + "/hot.json"), """
        {
          "name": "app",
          "modules": "modules",
          "include": [\(includes)],
          "sticky": [],
          "swiftcFlags": [],
          "nodes": {}
        }

        """)
    try writeFile(scratch.path(folder + "/.gitignore"), ".hot/\n")
    for name in modules { try writeFile(scratch.path("\(folder)/modules/\(name)/\(name).swift"), moduleSource(name, 1)) }
    for (path, text) in extraFiles { try writeFile(scratch.path(folder + "/" + path), text) }
}

/// A project in a new repository (branch `main`) with one commit of everything.
struct TestRepo {
    let scratch: Scratch
    let repository: Repository
    /// The project's folder, relative to the scratch root.
    let folder: String

    init(_ scratch: Scratch, modules: [String], include: [String] = [], extraFiles: [String: String] = [:],
         repositoryFolder: String = "app", projectFolder: String = "app", outside: [String: String] = [:]) throws {
        self.scratch = scratch
        folder = projectFolder
        repository = try Repository.create(at: scratch.path(repositoryFolder), initialBranch: "main")
        try writeProject(scratch, folder: projectFolder, modules: modules, include: include, extraFiles: extraFiles)
        for (path, text) in outside { try writeFile(scratch.path(repositoryFolder + "/" + path), text) }
        try commit("first")
    }

    /// HEAD's full id.
    var head: String? { (try? repository.headCommit())??.description }

    func path(_ relative: String) -> String { scratch.path(folder + "/" + relative) }
    func write(_ relative: String, _ text: String) throws { try writeFile(path(relative), text) }
    func read(_ relative: String) throws -> String { try String(contentsOfFile: path(relative), encoding: .utf8) }

    /// Stages everything and commits it.
    @discardableResult
    func commit(_ message: String) throws -> ObjectID {
        try repository.addAll()
        return try repository.commit(message: message)
    }

    /// Runs `hot` in the project folder, or in `sub` below it.
    func hot(_ arguments: [String], in sub: String = "") throws -> Outcome {
        try scratch.hot(arguments, in: sub.isEmpty ? folder : folder + "/" + sub)
    }

    /// `hot changed --json`, parsed and checked for its exact shape.
    func changed(since: String? = nil, in sub: String = "") throws -> ChangedReport {
        let outcome = try hot(["changed", "--json"] + (since.map { ["--since", $0] } ?? []), in: sub)
        try #require(outcome.status == 0, "\(outcome)")
        let document = try #require(try parseJSON(outcome.stdout) as? [String: Any], "\(outcome)")
        #expect(Set(document.keys) == ["since", "commit", "modules"])
        let modules = try #require(document["modules"] as? [[String: Any]])
        return ChangedReport(
            since: document["since"] as? String, commit: document["commit"] as? String,
            modules: try modules.map { module in
                #expect(Set(module.keys) == ["name", "status", "from", "files"], "\(module)")
                #expect(module["from"] is NSNull || module["from"] is String)
                return ChangedReport.Module(
                    name: try #require(module["name"] as? String), status: try #require(module["status"] as? String),
                    from: module["from"] as? String, files: try #require(module["files"] as? [String]))
            })
    }

    /// `hot build --json`, parsed; each version's file, key and sha256 checked.
    func build(_ extra: [String] = []) throws -> BuildResult {
        let outcome = try hot(["build", "--json"] + extra)
        try #require(outcome.status == 0, "\(outcome)")
        let document = try #require(try parseJSON(outcome.stdout) as? [String: Any], "\(outcome)")
        #expect(Set(document.keys) == ["commit", "dirty", "modules", "warnings", "checks"])
        let checks = try #require(document["checks"] as? [String: Any])
        #expect(Set(checks.keys) == ["files", "seconds"], "\(checks)")
        var result = BuildResult(commit: document["commit"] as? String, dirty: try #require(document["dirty"] as? Bool))
        for module in try #require(document["modules"] as? [[String: Any]]) {
            #expect(Set(module.keys) == ["name", "version", "key", "file", "sha256", "status", "seconds"], "\(module)")
            let name = try #require(module["name"] as? String)
            let status = try #require(module["status"] as? String)
            // A compile time for a module built now, and only for one.
            #expect((module["seconds"] is Double) == (status == "built"), "\(module)")
            let version = module["version"] as? Int
            result.modules.append(.init(name, status, version))
            guard let version, let key = module["key"] as? String, let file = module["file"] as? String else { continue }
            #expect(key.count == 64 && (module["sha256"] as? String)?.count == 64, "\(module)")
            #expect(file == "\(name).v\(version)-\(key.prefix(12)).so")
            result.keys[name] = key
            result.files[name] = file
            if status != "deleted" { #expect(FileManager.default.fileExists(atPath: path(".hot/build/\(name)/\(file)")), "\(file)") }
        }
        return result
    }

    /// The finished artifacts (not hidden) under `.hot/build/<module>/`.
    func artifacts() -> [String] {
        let build = path(".hot/build")
        let modules = (try? FileManager.default.contentsOfDirectory(atPath: build)) ?? []
        return modules.flatMap { module in
            ((try? FileManager.default.contentsOfDirectory(atPath: build + "/" + module)) ?? [])
                .filter { $0.hasSuffix(".so") && !$0.hasPrefix(".") }
        }
    }

    /// Whether a direct build's intermediate object file is under `.hot/build/<module>/`.
    func hasObjectFile() -> Bool {
        let build = path(".hot/build")
        let modules = (try? FileManager.default.contentsOfDirectory(atPath: build)) ?? []
        return modules.contains { module in
            ((try? FileManager.default.contentsOfDirectory(atPath: build + "/" + module)) ?? []).contains { $0.hasSuffix(".tmp.o") }
        }
    }

    /// Starts `hot build -j 2`, waits with `wait`, sends SIGINT and waits for the end.
    func interruptedBuild(environment: [String: String], _ wait: () -> Void) throws -> (interrupted: Bool, description: String) {
        let process = Foundation.Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = URL(fileURLWithPath: Binaries.hot)
        process.arguments = ["build", "-j", "2"]
        process.currentDirectoryURL = URL(fileURLWithPath: path(""))
        let log = scratch.path("interrupted-build.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? output.close() }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        // The child inherits this thread's signal mask, and a test runner's
        // worker threads block SIGINT: start it as a shell would, with SIGINT
        // and SIGTERM deliverable.
        var signals = sigset_t()
        var saved = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
        pthread_sigmask(SIG_SETMASK, &saved, nil)
        wait()
        process.interrupt()
        process.waitUntilExit()
        let interrupted = (process.terminationReason == .exit && process.terminationStatus == 130)
            || (process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (interrupted, "reason \(process.terminationReason.rawValue), status \(process.terminationStatus): \(text)")
    }

    /// No temporary, intermediate, log or entry file under .hot/build (nor a
    /// folder a plan was derived in), and every .so there is in the manifest.
    func expectNoPartialArtifacts(_ moment: Comment, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let build = path(".hot/build")
        var leftovers: [String] = []
        var objects: [String] = []
        for case let item as String in FileManager.default.enumerator(atPath: build) ?? NSEnumerator() {
            let name = (item as NSString).lastPathComponent
            if name.contains(".tmp") || name.hasSuffix(".log") || name.hasPrefix(".entry") || name == "derive" {
                leftovers.append(item)
            }
            if name.hasSuffix(".so") && !name.hasPrefix(".") { objects.append(item) }
        }
        #expect(leftovers.isEmpty, "\(moment): partial files left: \(leftovers)", sourceLocation: sourceLocation)
        var recorded: Set<String> = []
        if let text = try? read(".hot/manifest.json") {
            let manifest = try #require(try parseJSON(text) as? [String: Any], sourceLocation: sourceLocation)
            for version in manifest["versions"] as? [[String: Any]] ?? [] {
                if let module = version["module"] as? String, let file = version["file"] as? String { recorded.insert(module + "/" + file) }
            }
        }
        let unrecorded = objects.filter { !recorded.contains($0) }.sorted()
        #expect(unrecorded.isEmpty, "\(moment): artifacts not in .hot/manifest.json: \(unrecorded)", sourceLocation: sourceLocation)
    }
}

/// `hot changed --json`, as the test reads it.
struct ChangedReport: Equatable, CustomStringConvertible {
    struct Module: Equatable, CustomStringConvertible {
        let name: String
        let status: String
        let from: String?
        let files: [String]

        static func modified(_ name: String, _ files: [String]) -> Module { Module(name: name, status: "modified", from: nil, files: files) }
        static func added(_ name: String, _ files: [String]) -> Module { Module(name: name, status: "added", from: nil, files: files) }
        static func deleted(_ name: String, _ files: [String]) -> Module { Module(name: name, status: "deleted", from: nil, files: files) }
        var description: String { "\(status) \(name)\(from.map { " from \($0)" } ?? "") \(files)" }
    }

    let since: String?
    let commit: String?
    let modules: [Module]

    var description: String { "since \(since ?? "null"), commit \(commit ?? "null"), \(modules)" }
}

/// `hot build --json`, as the test reads it.
struct BuildResult {
    struct Module: Equatable, CustomStringConvertible {
        let name: String
        let status: String
        let version: Int?
        init(_ name: String, _ status: String, _ version: Int?) {
            self.name = name
            self.status = status
            self.version = version
        }
        var description: String { "\(name) \(status) v\(version.map(String.init) ?? "-")" }
    }

    let commit: String?
    let dirty: Bool
    var modules: [Module] = []
    /// Content key and file name of each module that has a version.
    var keys: [String: String] = [:]
    var files: [String: String] = [:]
}

