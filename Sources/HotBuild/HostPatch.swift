#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPatch
import HotPlatform
import HotProject

/// A built patch of the host's own code: one version of the module
/// `host_patch`, which replaces members of the running host's modules
/// (docs/ARCHITECTURE.md, "Patching the host").
public struct HostPatchVersion: Sendable {
    /// The version, as every module's.
    public let version: BuiltVersion
    /// Its object.
    public let path: String
    /// The members and declarations whose code this patch changes from
    /// the last one (what the save changed), by host module.
    public let changed: [(module: String, members: [PatchedMember])]
    /// How long the compile took.
    public let compileTime: Duration
}

/// What a save of the host's sources came to.
public enum HostPatchOutcome: Sendable {
    /// Nothing a patch would change: the saved sources declare what the
    /// build (or the last patch) does, give or take comments and spacing.
    case unchanged
    /// Something no patch can make live; nothing was built.
    case restartNeeded([RestartNeeded])
    /// Built, to be loaded.
    case built(HostPatchVersion)
}

/// Plans, generates and compiles patches of the host's own modules against
/// the build of the host a node runs (docs/ARCHITECTURE.md, "Patching the host").
public struct HostPatcher: Sendable {
    /// The module every patch is a version of. Not a valid folder name for
    /// a hot module of the project (`Project.moduleNames` refuses it).
    public static let module = HostPatchName.module

    public let project: Project
    /// The build the node runs, kept with its sources.
    public let host: HostBuild

    public init(project: Project, host: HostBuild) {
        self.project = project
        self.host = host
    }

    /// `.hot/patch/`.
    var directory: String { project.layout.hotDirectory + "/patch" }
    private var manifestPath: String { directory + "/manifest.json" }
    private var patchedPath: String { directory + "/patched-\(host.fingerprint.prefix(16)).json" }
    private var code: CodePath { CodePath(directory + "/build") }

    /// Every source of the host's own modules, absolute.
    public var watchedSources: [String] { host.ownModules.flatMap(\.sources) }

    /// Whether the build the node runs was kept with the sources it was
    /// made from (a build kept by an older hot was not), which patches are
    /// planned against.
    public var hasBaseline: Bool { isDirectory(project.layout.host.kept(host.fingerprint) + "/sources") }

    /// Plans the patch the sources as they stand now need against the
    /// host's build, and builds it when it can be made live.
    public func build() throws(BuildError) -> HostPatchOutcome {
        var patched = readPatched()
        var plans: [FilePatch] = []
        var restart: [RestartNeeded] = []
        for module in host.ownModules {
            for source in module.sources {
                let file = relative(source)
                let saved = readFile(source).map { String(decoding: $0, as: UTF8.self) }
                // A build kept before hot kept sources has nothing to compare with.
                guard let built = host.keptSource(source, project: project) else { continue }
                guard let saved else {
                    restart.append(RestartNeeded(file: file, line: 1, why: "the file was removed"))
                    continue
                }
                if saved == built && patched[file] == nil { continue }
                let plan = PatchPlanner.plan(
                    file: file, module: module.name, built: built, saved: saved, replaced: Set((patched[file] ?? [:]).keys), sourcePath: source)
                if !module.patchable && (!plan.isEmpty || !plan.restartNeeded.isEmpty) {
                    restart.append(
                        RestartNeeded(
                            file: file, line: 1,
                            why: "module \(module.name) is not built patchable (its target lacks the patchable setting of docs/RELOADING.md, or this is a release build)"))
                    continue
                }
                restart += plan.restartNeeded
                if !plan.isEmpty { plans.append(plan) }
            }
        }
        // A new file in a module's folders: the next build of the host compiles it.
        for module in host.ownModules {
            let known = Set(module.sources)
            for folder in Set(module.sources.map(parentDirectory)).sorted() {
                for name in listDirectory(folder).sorted() where Project.isSourceFile(name) && !known.contains(folder + "/" + name) {
                    restart.append(RestartNeeded(file: relative(folder + "/" + name), line: 1, why: "a new source file of \(module.name)"))
                }
            }
        }
        guard restart.isEmpty else { return .restartNeeded(restart) }
        // What this save changes from the code the last patch installed.
        var changed: [(module: String, members: [PatchedMember])] = []
        for plan in plans {
            let members = (plan.members + plan.additions).filter { patched[plan.file]?[$0.key] != $0.tokens }
            guard !members.isEmpty else { continue }
            if let index = changed.firstIndex(where: { $0.module == plan.module }) {
                changed[index].members += members
            } else {
                changed.append((plan.module, members))
            }
        }
        guard !plans.isEmpty, !changed.isEmpty else { return .unchanged }

        let sources = PatchModuleSource.files(plans)
        let toolchain: Toolchain
        do { toolchain = try Toolchain.locate(cacheFile: project.layout.toolchainCachePath) } catch { throw .toolchain(error) }
        let key = SHA256Hasher.hex(
            of: Array((["hot patch 1", host.fingerprint, toolchain.version] + sources.flatMap { [$0.name, $0.text] }).joined(separator: "\u{1}").utf8))
        var manifest: Manifest
        do { manifest = try Manifest.load(manifestPath) } catch { throw .project(error) }
        if let known = manifest.version(Self.module, key: key), fileExists(code.builtPath(module: Self.module, file: known.file)) {
            return .built(
                HostPatchVersion(
                    version: known, path: code.builtPath(module: Self.module, file: known.file), changed: changed, compileTime: .zero))
        }
        let version = manifest.nextVersion(Self.module)
        let folder = directory + "/src/v\(version)"
        do {
            removeTree(folder)
            try makeDirectories(folder)
            for source in sources { try writeFileAtomically(folder + "/" + source.name, Array(source.text.utf8), durable: false) }
        } catch { throw .system(error) }
        // The language mode of the patched modules, which their code was written for.
        let modes = Set(plans.compactMap { plan in host.ownModules.first { $0.name == plan.module }?.swiftVersion })
        let job = CompileJob(
            module: Self.module, version: version, key: key, sources: sources.map { folder + "/" + $0.name },
            // The LLVM style of diagnostics quotes the line the user wrote,
            // not the generated lines around it.
            buildDirectory: code.directory, toolchain: toolchain,
            // Linked by lld where the toolchain has it: a patch is built on
            // every save, and lld takes about half of gold's time (`lldFlags`).
            flags: ["-diagnostic-style", "llvm"] + (modes.count == 1 ? ["-swift-version", modes.first!] : []) + toolchain.lldFlags,
            release: false, commit: nil, host: host)
        let outcome = try Builder(project: project).run([job], toolchain: toolchain, jobs: 1, progress: { _ in })[0]
        switch outcome {
        case .failure(var failure):
            failure.missingFromHost = HostBuild.missingModules(in: failure.output)
            throw .compile([failure], built: [])
        case .success(let sha256, let took):
            let built = BuiltVersion(
                module: Self.module, version: version, key: key, file: lastPathComponent(job.output), sha256: sha256, commit: nil,
                dirty: true, compiler: toolchain.version, time: now(), release: false, files: nil, includes: nil)
            manifest.versions.append(built)
            manifest.current[Self.module] = version
            for plan in plans {
                for member in plan.members + plan.additions { patched[plan.file, default: [:]][member.key] = member.tokens }
            }
            do {
                try manifest.save(manifestPath)
                let term = (try? TermEncoder().encode(patched)) ?? .null
                try writeFileAtomically(patchedPath, Array(JSON.render(term).utf8), durable: false)
            } catch { throw .system(error) }
            return .built(HostPatchVersion(version: built, path: job.output, changed: changed, compileTime: took))
        }
    }

    /// What earlier patches of this build installed: by file, each
    /// member's key and its code's tokens.
    private func readPatched() -> [String: [String: String]] {
        guard let bytes = readFile(patchedPath),
            let decoded = try? TermDecoder().decode([String: [String: String]].self, from: JSON.parse(bytes))
        else { return [:] }
        return decoded
    }

    /// `path` relative to the project's root when inside it.
    private func relative(_ path: String) -> String {
        let root = (realPath(project.root) ?? project.root) + "/"
        return path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path
    }
}
