#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Hot
import HotPlatform

/// Thousands of versions of one module, built fast: the frontend and the
/// linker run directly, two at a time, with the command lines `hot build`
/// derived from the driver for the module's first version (its driver plan,
/// docs/ARCHITECTURE.md "Direct build"). Each version has its own file
/// (`ArtifactName`, "Fact: file-per-version"), its own Swift module name
/// ("Fact: name-per-version") and its own descriptor, as the builder makes
/// them; built objects are kept in `cache` and reused by the next run.
struct Versions {
    let module = "curve"
    let cache: String
    let plan: [[String]]
    let entries: [String]
    let compiler: String
    let commit: String?
    let scratch: String
    /// Linker options added to the plan's line (HOTCURVE_LINK_FLAGS), to
    /// measure a flag on real objects before the builder takes it.
    let linkFlags: [String]

    /// The module's source for version `n`: three exports, a server, a
    /// Codable type, as a small real module has.
    static func source(_ n: Int) -> String {
        """
        import Hot

        // curve, version \(n)
        let module = HotModule(
            exports: [
                .function("version", version),
                .function("inc", inc),
                .function("item", item),
                .function("bump", { () throws -> Term in try Servers.call("curve_counter", "bump") }),
            ],
            servers: [.server("counter", Counter.self)])

        struct Item: Codable, Sendable {
            var id: Int
            var name: String
            var tags: [String]
            var version: Int
        }

        func version(_ probe: Int) -> Int { \(n) }
        func inc(_ x: Int) -> Int { x &+ 1 }
        func item(_ id: Int) -> Item { Item(id: id, name: "item \\(id)", tags: ["a", "b"], version: \(n)) }

        enum Counter: Server {
            struct State: Codable { var count: Int }
            static func start(_ args: [Term]) throws -> State { State(count: 0) }
            static func handleCall(_ request: Term, state: inout State) throws -> Term {
                state.count += 1
                return .int(state.count)
            }
        }

        """
    }

    /// Builds version 1 with `hot build` in `fixture`, and learns from it the
    /// plan, the autolink entries and the descriptor's compiler.
    init(fixture: Fixture, cacheRoot: String) throws {
        try fixture.write(module: module, Self.source(1))
        let first = try fixture.build(module, release: false)
        let build = "\(fixture.root)/app/.hot/build"
        let plans = listDirectory("\(build)/.driver-plans").filter { $0.hasSuffix(".plan") }
        guard plans.count == 1, let bytes = readFile("\(build)/.driver-plans/\(plans[0])") else {
            throw FixtureError("hot build left no driver plan in \(build)/.driver-plans (it used the driver)")
        }
        // DriverPlanCache's file: a header, then frontend, autolink, clang's
        // link, the linker's line, originals, supplementary; words by NUL.
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 8, lines[0] == "hot-driver-plan 1" else { throw FixtureError("unknown driver plan format") }
        linkFlags = (getenv("HOTCURVE_LINK_FLAGS").map { String(cString: $0) } ?? "").split(separator: " ").map(String.init)
        plan = lines[1...4].map { $0.split(separator: "\0", omittingEmptySubsequences: false).map(String.init) }
        guard lines[6].isEmpty else { throw FixtureError("the plan names supplementary outputs; not handled here") }
        // The descriptor `hot build` embedded: static text in the object.
        let object = String(decoding: readFile(first) ?? [], as: UTF8.self)
        guard let start = object.range(of: "hot-module\n") else { throw FixtureError("no descriptor in \(first)") }
        let text = object[start.lowerBound...].prefix { $0 != "\0" }
        guard let descriptor = ModuleDescriptor(parsing: String(text)) else { throw FixtureError("bad descriptor") }
        compiler = descriptor.compiler
        commit = nil
        // The object's library list, as swift-autolink-extract writes it.
        scratch = "\(fixture.root)/curve-scratch"
        try makeDirectories(scratch)
        let list = "\(scratch)/first.autolink"
        let tool = plan[1].map {
            $0.replacing("\u{1}object\u{1}", with: first).replacing("\u{1}autolink\u{1}", with: list)
        }
        let status = try Subprocess.spawn(tool[0], Array(tool.dropFirst()), output: .inherit).wait()
        guard status == 0, let listed = readFile(list) else { throw FixtureError("swift-autolink-extract failed") }
        entries = String(decoding: listed, as: UTF8.self).split(separator: "\n").map(String.init)
        guard entries.allSatisfy({ $0.hasPrefix("-l") }) else { throw FixtureError("autolink entries the linker line cannot take") }
        // Keyed by everything that makes the objects: the compiler's and the
        // SDK's identity and the plan (flags), and the source template.
        var hasher = SHA256Hasher()
        hasher.update(Array((compiler + HotSDK.fingerprint + Self.source(0)).utf8))
        // The templates only: the plan's other lines name the folders of the
        // fixture that derived it.
        hasher.update(Array(lines[1...4].joined(separator: "\n").utf8))
        hasher.update(Array(linkFlags.joined(separator: " ").utf8))
        cache = "\(cacheRoot)/\(String(hasher.hexDigest().prefix(16)))"
        try makeDirectories(cache)
    }

    /// The content key of version `n`.
    func key(_ n: Int) -> String { SHA256Hasher.hex(of: Array(Self.source(n).utf8)) }

    /// Version `n`'s object.
    func path(_ n: Int) -> String { "\(cache)/\(ArtifactName(module: module, version: n, key: key(n)).fileName)" }

    /// Builds the versions not yet in the cache, `jobs` at a time; the
    /// seconds it took and how many it built.
    func build(_ versions: ClosedRange<Int>, jobs: Int) throws -> (seconds: Double, built: Int) {
        let started = monotonicSeconds()
        let missing = versions.filter { !fileExists(path($0)) }
        var running: [pid_t: (n: Int, stage: Int, process: Subprocess)] = [:]
        var next = 0
        var done = 0
        while next < missing.count || !running.isEmpty {
            while running.count < jobs && next < missing.count {
                let n = missing[next]
                next += 1
                let command = try steps(n)[0]
                let process = try Subprocess.spawn(command[0], Array(command.dropFirst()), output: .file(log(n)))
                running[process.pid] = (n, 0, process)
            }
            guard let ended = try Subprocess.firstExited(of: running.values.map(\.process)),
                let entry = running.removeValue(forKey: ended.pid)
            else { continue }
            let status = ended.wait()
            guard status == 0 else {
                let output = readFile(log(entry.n)).map { String(decoding: $0, as: UTF8.self) } ?? ""
                throw FixtureError("building curve v\(entry.n) failed (step \(entry.stage)): \(output)")
            }
            if entry.stage == 0 {
                let command = try steps(entry.n)[1]
                let process = try Subprocess.spawn(command[0], Array(command.dropFirst()), output: .file(log(entry.n)))
                running[process.pid] = (entry.n, 1, process)
                continue
            }
            for file in [sourcePath(entry.n), entryPath(entry.n), objectPath(entry.n), log(entry.n)] { unlink(file) }
            guard rename(temporary(entry.n), path(entry.n)) == 0 else { throw FixtureError("rename failed for v\(entry.n)") }
            done += 1
            if done % 500 == 0 { _ = writeAll(2, Array("hotcurve: built \(done) of \(missing.count) versions\n".utf8)) }
        }
        return (monotonicSeconds() - started, missing.count)
    }

    private func sourcePath(_ n: Int) -> String { "\(scratch)/v\(n)/curve.swift" }
    private func entryPath(_ n: Int) -> String { "\(scratch)/v\(n)/.entry.v\(n).swift" }
    private func objectPath(_ n: Int) -> String { temporary(n) + ".o" }
    private func temporary(_ n: Int) -> String { "\(cache)/.v\(n).tmp" }
    private func log(_ n: Int) -> String { "\(scratch)/v\(n).log" }

    /// The frontend's and the linker's lines for version `n`, its source and
    /// entry file written.
    private func steps(_ n: Int) throws -> [[String]] {
        try makeDirectories("\(scratch)/v\(n)")
        if !fileExists(sourcePath(n)) {
            try writeFileAtomically(sourcePath(n), Array(Self.source(n).utf8), durable: false)
            let descriptor = ModuleDescriptor(
                abi: HotSDK.abiVersion, sdk: HotSDK.fingerprint, compiler: compiler, name: module, version: n, key: key(n),
                commit: commit)
            try writeFileAtomically(entryPath(n), Array(descriptor.entrySource.utf8), durable: false)
        }
        func fill(_ template: [String]) -> [String] {
            template.flatMap { argument -> [String] in
                switch argument {
                case "\u{1}sources\u{1}": return [sourcePath(n), entryPath(n)]
                case "\u{1}module\u{1}": return [ModuleDescriptor.swiftModuleName(module, version: n)]
                case "\u{1}entries\u{1}": return entries
                default:
                    return [
                        argument.replacing("\u{1}object\u{1}", with: objectPath(n))
                            .replacing("\u{1}autolink\u{1}", with: objectPath(n) + ".autolink")
                            .replacing("\u{1}output\u{1}", with: temporary(n))
                    ]
                }
            }
        }
        return [fill(plan[0]), fill(plan[3]) + linkFlags]
    }
}
