#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotBuild
import HotDeploy
import HotPatch
import HotPlatform

/// `hot watch`.
let watchCommand = Command(
    name: "watch", summary: "build and load each module into a running node as its sources are saved",
    usage: "watch [MODULE...] [--node NAME|ADDRESS] [--cookie-file PATH] [--purge] [--force] [--temporary] [--release] [--strict] [--no-host]",
    details: """
        The edit loop without a command per save. The module folders and include folders are
        watched with inotify; saves that come within a few milliseconds of each other are one
        batch, built once. Each module that changed is compiled and loaded into the node (the
        project's local node, or the one named), and one line is printed per swap:
            hello v3 -> v4  build 142 ms  load 9 ms
        A compile error prints the compiler's diagnostics; the node keeps its version and the
        watch goes on. A load the node refuses (a module that crashes in its trial load, say)
        says why, likewise. A new module folder is built and loaded; a deleted one is deleted
        from the node (its version becomes old, as `hot delete`). A save made while a build runs
        stops that build, which records nothing, and the newest sources are built instead: the
        node only ever gets them, one new version per burst of saves.
        Editors that write in place and those that write a new file and rename it are both
        seen. The connection to the node stays open between swaps. On start, modules whose
        sources differ from what the node runs are built and loaded first. Loaded versions are
        made permanent (what a restarted node boots) unless --temporary. Ctrl-C stops the
        watch; a build it interrupts leaves no partial artifact.
        With MODULE names, only those modules are built and loaded.
        In a project whose hot.json names a host, the host's own code is watched too (--no-host
        leaves it alone): a save to one of its sources is patched into the running app without a
        restart. The members whose code changed (functions, methods, computed properties,
        subscripts, private ones included) are compiled into a patch against the build the app
        runs and loaded into it, trial first, and one line is printed:
            App: 3 functions patched  build 180 ms  load 6 ms
        What no patch can make live (a stored property, an enum case, an initializer, a new
        conformance, top-level code, a function that registers routes) is printed as
            restart needed: <why> at FILE:LINE
        and nothing of that save is loaded. The host's targets must be built patchable (the
        setting in docs/RELOADING.md, "Patching the host's own code"; the hummingbird template
        has it). `hot status` lists the patched members and how often each ran since.
        Each build runs the build checks of `hot build` (see `hot help build`) on the modules
        it compiles: their warnings are printed on stderr; with --strict (or hot.json's
        "checks": {"strict": true}) a module with findings is not compiled and the node keeps
        its version, as for a compile error.
        """,
    options: [
        .watchNode, .cookieFile, .watchPurge, .watchForce, .watchTemporary, .release, .strict, .noHost,
    ],
    arguments: 0...Int.max,
    argumentValues: [.modules]
) { (args) throws(CommandError) in
    let project = try currentProject()
    let present: [String]
    do throws(ProjectError) { present = try project.moduleNames() } catch { throw .failed(error.description) }
    for name in args.positionals where !present.contains(name) {
        throw .usage(.invalidValue(option: "MODULE", value: name, reason: ProjectError.unknownModule(name, known: present).description))
    }
    let selection = NodeSelection(names: args.value(.watchNode).map { [$0] } ?? [], cookieFile: args.value(.cookieFile))
    guard let target = try resolveNodes(selection, project: project).first else { return }
    let watcher: SourceWatcher
    do throws(SystemError) { watcher = try SourceWatcher(project: project) } catch {
        throw .failed("cannot watch the sources: \(error) (raise fs.inotify.max_user_watches if it is the limit)")
    }
    defer { watcher.stop() }
    let watch = Watch(
        project: project, watcher: watcher, only: Set(args.positionals),
        link: NodeLink(target: RolloutTarget(name: target.name, address: target.address, cookieFile: target.cookieFile)),
        purge: args.has(.watchPurge), force: args.has(.watchForce), temporary: args.has(.watchTemporary), release: args.has(.release),
        strict: args.has(.strict))
    do throws(ClientError) { try watch.link.refresh() } catch {
        throw error.isUnreachable
            ? .unreachable("\(error.description); start the node first (`hot start`) or name one with --node")
            : .failed(error.description)
    }
    if project.config.host != nil && !args.has(.noHost) { watch.watchHost() }
    try watch.run()
}

extension Option {
    /// One node only: a watch keeps one connection.
    static let watchNode = Option(
        "--node", .value, valueName: "NAME|ADDRESS", values: .nodes,
        help: "the node: a name from hot.json, unix:PATH or tcp://HOST:PORT (default: the project's local node)")
    static let watchPurge = Option("--purge", .flag, help: "stop processes and cancel calls still in old code before each load")
    static let watchForce = Option("--force", .flag, help: "reload sticky modules too")
    static let watchTemporary = Option("--temporary", .flag, help: "do not make the loaded versions permanent")
    static let noHost = Option("--no-host", .flag, help: "do not watch and patch the host's own code")
}

/// One run of `hot watch`: the watcher, the link to the node, and the loop.
private final class Watch {
    let project: Project
    let watcher: SourceWatcher
    let link: NodeLink
    /// The modules named on the command line; empty: all.
    let only: Set<String>
    let purge: Bool
    let force: Bool
    let temporary: Bool
    let release: Bool
    /// The build checks' findings are errors.
    let strict: Bool
    /// Modules built but not loaded because the node could not be reached:
    /// loaded when it answers again.
    private var unshipped: Set<String> = []
    /// Modules whose last build failed: told when they compile again.
    private var broken: Set<String> = []
    /// Patches the host's own code, when the project has a host that runs
    /// a build hot kept (docs/ARCHITECTURE.md, "Patching the host").
    private var patcher: HostPatcher?

    /// How long the loop waits for a change before it asks the node's
    /// status: that keeps the connection open, and finds a restarted host
    /// (there is no event for it short of the next request) within this bound.
    private let idleSeconds = 5.0

    init(project: Project, watcher: SourceWatcher, only: Set<String>, link: NodeLink,
         purge: Bool, force: Bool, temporary: Bool, release: Bool, strict: Bool) {
        self.project = project
        self.watcher = watcher
        self.only = only
        self.link = link
        self.purge = purge
        self.force = force
        self.temporary = temporary
        self.release = release
        self.strict = strict
    }

    /// Finds the build of the host the node runs and watches its own
    /// sources; says why not when it cannot.
    func watchHost() {
        let target = NodeTarget(name: link.target.name, address: link.target.address, cookieFile: link.target.cookieFile)
        let build: HostBuild
        do throws(CommandError) {
            guard let found = try runningHostBuild(project, targets: [target])?.build else { return }
            build = found
        } catch .failed(let reason) {
            say("the host's code is not watched: \(reason)", error: true)
            return
        } catch {
            return
        }
        let patcher = HostPatcher(project: project, host: build)
        guard !patcher.watchedSources.isEmpty else { return }
        guard patcher.hasBaseline else {
            say("the host's code is not watched: the build the app runs was kept without its sources; rebuild and restart the app once, then start the watch", error: true)
            return
        }
        do throws(SystemError) { try watcher.watchHost(patcher.watchedSources) } catch {
            say("the host's code is not watched: \(error)", error: true)
            return
        }
        self.patcher = patcher
        let modules = build.ownModules
        let unpatchable = modules.filter { !$0.patchable }.map(\.name)
        say("watching the host's own code (\(modules.map(\.name).joined(separator: ", ")))"
            + (unpatchable.isEmpty ? "" : "; \(unpatchable.joined(separator: ", ")) not built patchable, so a change there needs a restart (docs/RELOADING.md, \"Patching the host's own code\")"))
    }

    func run() throws(CommandError) {
        let scope = only.isEmpty ? "every module" : only.sorted().joined(separator: ", ")
        say("watching \(scope) for node \(link.target.name) (\(watcher.watchedFolders) folders); Ctrl-C stops")
        // What changed before the watch began goes first.
        var changes = SourceWatcher.Changes()
        changes.overflowed = true
        while true {
            if !changes.isEmpty {
                guard try cycle(changes) else { return }
            }
            let wake: SourceWatcher.Wake
            do { wake = try watcher.next(timeout: .seconds(idleSeconds)) } catch { throw .failed("watching the sources: \(error)") }
            switch wake {
            case .interrupted:
                return
            case .changed(let next):
                changes = next
                if changes.configuration {
                    say("hot.json changed; this watch goes on with the settings it started with: restart it to use the new ones", error: true)
                    changes.configuration = false
                }
            case .idle:
                changes = SourceWatcher.Changes()
                if !unshipped.isEmpty {
                    changes.modules = unshipped
                } else if let before = try? link.restartedFrom() {
                    // A restarted host boots its built-in and permanent
                    // versions: every module is built for it again and
                    // loaded where it differs. A node gone is said at the next load.
                    say("node \(link.target.name) restarted (was \(before), now \(link.nodeIdentity ?? "unknown")); bringing it to the newest sources")
                    changes.overflowed = true
                    // It may run another build of the host, which patches are planned against.
                    if patcher != nil { watchHost() }
                }
            }
        }
    }

    /// Builds and loads what `changes` touched; false when interrupted.
    private func cycle(_ initial: SourceWatcher.Changes) throws(CommandError) -> Bool {
        var changes = initial
        changes.modules.formUnion(unshipped)
        while true {
            let present: Set<String>
            do { present = Set(try project.moduleNames()) } catch {
                say(error.description, error: true)
                return true
            }
            var affected = changes.includes || changes.overflowed ? present.union(changes.modules) : changes.modules
            if !only.isEmpty { affected.formIntersection(only) }
            let building = affected.intersection(present).sorted()
            // Deleted from the node only when this watch saw its folder go:
            // a module the node runs from elsewhere is not the watch's to remove.
            let gone = affected.subtracting(present).filter { link.currentVersions[$0] != nil }.sorted()
            if changes.host || changes.overflowed, patcher != nil {
                guard try patchHost() else { return false }
            }
            guard !building.isEmpty || !gone.isEmpty else { return true }

            let lock = try lockProject(project)
            defer { lock.release() }
            let started = ContinuousClock.now
            var compileTimes: [String: Duration] = [:]
            let versions: [BuiltVersion]
            var options = BuildOptions(modules: building, release: release, strict: strict)
            do throws(CommandError) {
                // An app rebuilt but not restarted gets versions built for the build it runs, as a deploy's.
                let target = NodeTarget(name: link.target.name, address: link.target.address, cookieFile: link.target.cookieFile)
                options.host = try runningHostBuild(project, targets: [target])?.build
            } catch .failed(let reason) {
                say(reason, error: true)
                return true
            }
            do {
                versions = building.isEmpty ? [] : try Builder(project: project).build(
                    options, supersession: watcher,
                    progress: { event in
                        if case .compiled(let module, _, let took, true) = event { compileTimes[module] = took }
                        if case .warnings(let findings) = event { printWarnings(findings, root: project.root) }
                    }).versions
            } catch .interrupted {
                say("build interrupted; no partial artifact was kept", error: true)
                return false
            } catch .superseded {
                // Saved again mid-build: that build is gone, the next one has the newest sources.
                do { changes = try watcher.pending() } catch { throw .failed("watching the sources: \(error)") }
                changes.modules.formUnion(affected)
                continue
            } catch .compile(let failures, let built) {
                for failure in failures {
                    let text = failure.hostAdvice ?? failure.output
                    writeStderr(text.hasSuffix("\n") ? text : text + "\n")
                    let kept = link.currentVersions[failure.module].map { "keeps v\($0)" } ?? "has no version of it"
                    let why = failure.findings.isEmpty ? "did not compile" : "not compiled: the build checks' findings are errors (--strict)"
                    say("\(failure.module): \(why); the node \(kept)", error: true)
                }
                broken.formUnion(failures.map(\.module))
                versions = built.compactMap { $0.status == .deleted ? nil : $0.version }
            } catch {
                say(error.description, error: true)
                return true
            }
            let buildTime = ContinuousClock.now - started
            // Saves made during the build: build again before loading, so the
            // node only ever gets the newest sources.
            let during: SourceWatcher.Changes
            do { during = try watcher.pending() } catch { throw .failed("watching the sources: \(error)") }
            if watcher.interrupted { return false }
            if !during.isEmpty {
                changes = during
                changes.modules.formUnion(affected)
                continue
            }
            lock.release()
            for version in versions where broken.remove(version.module) != nil && link.currentKeys[version.module] == version.key {
                say("\(version.module) compiles again; the node runs it (v\(link.currentVersions[version.module] ?? version.version))")
            }
            load(versions, compileTimes: compileTimes, buildTime: buildTime)
            for module in gone { delete(module) }
            return true
        }
    }

    /// Builds the patch the host's sources need now and loads it, or says
    /// what needs a restart; false when interrupted.
    private func patchHost() throws(CommandError) -> Bool {
        guard let patcher else { return true }
        let lock = try lockProject(project)
        defer { lock.release() }
        let outcome: HostPatchOutcome
        do {
            outcome = try patcher.build()
        } catch .interrupted {
            return false
        } catch .compile(let failures, _) {
            for failure in failures {
                let text = failure.hostAdvice ?? failure.output
                writeStderr(text.hasSuffix("\n") ? text : text + "\n")
            }
            say("the patch of the host's code did not compile; the app keeps its code", error: true)
            return true
        } catch {
            say("patching the host's code: \(error.description)", error: true)
            return true
        }
        lock.release()
        switch outcome {
        case .unchanged:
            return true
        case .restartNeeded(let reasons):
            for reason in reasons { say(reason.description, error: true) }
            say("nothing of this save was loaded; the app keeps its code until it is rebuilt and restarted", error: true)
            return true
        case .built(let patch):
            if link.currentKeys[HostPatcher.module] == patch.version.key { return true }
            let shipped = ShippedVersion(module: patch.version.module, version: patch.version.version, key: patch.version.key, path: patch.path)
            let started = ContinuousClock.now
            do {
                _ = try link.load([shipped], purge: false, force: false, temporary: temporary)
            } catch {
                say("the patch of the host's code was not loaded: \(error.description); the app keeps its code", error: true)
                return true
            }
            let loadTime = ContinuousClock.now - started
            let what = patch.changed.map { "\($0.module): \($0.members.count) \($0.members.count == 1 ? "function" : "functions") patched" }
                .joined(separator: ", ")
            say("\(what)  build \(milliseconds(patch.compileTime))  load \(milliseconds(loadTime))")
            return true
        }
    }

    private func load(_ versions: [BuiltVersion], compileTimes: [String: Duration], buildTime: Duration) {
        guard !versions.isEmpty else { return }
        let shipped = versions.map { v in
            ShippedVersion(module: v.module, version: v.version, key: v.key, path: project.builtPath(module: v.module, file: v.file))
        }
        let started = ContinuousClock.now
        do {
            let changes = try link.load(shipped, purge: purge, force: force, temporary: temporary)
            let loadTime = ContinuousClock.now - started
            unshipped.subtract(versions.map(\.module))
            for change in changes {
                var line = "\(change.module) \(change.from.map { "v\($0)" } ?? "none") -> v\(change.to)"
                line += "  build \(milliseconds(compileTimes[change.module] ?? buildTime))  load \(milliseconds(loadTime))"
                if !change.work.stopped.isEmpty { line += "  (purged: stopped \(change.work.stopped.map(\.description).joined(separator: " ")))" }
                if change.work.cancelledCalls > 0 { line += "  (purged: cancelled \(change.work.cancelledCalls) calls in flight)" }
                if !change.work.cancelledTasks.isEmpty { line += "  (purged: cancelled tracked tasks \(change.work.cancelledTasks.joined(separator: ", ")))" }
                for failure in change.codeChangeFailures { line += "  (codeChange failed in \(failure.pid): \(failure.reason))" }
                say(line)
            }
        } catch {
            if error.isUnreachable {
                unshipped.formUnion(versions.map(\.module))
                say("node \(link.target.name) unreachable (\(error.description)); loading when it answers again", error: true)
            } else {
                let names = versions.map { "\($0.module) v\($0.version)" }.joined(separator: ", ")
                let kept = versions.map { v in "\(v.module) " + (link.currentVersions[v.module].map { "v\($0)" } ?? "none") }
                say("\(names): not loaded: \(error.description); the node keeps \(kept.joined(separator: ", "))", error: true)
            }
        }
    }

    private func delete(_ module: String) {
        do {
            let reply = try link.delete(module, temporary: temporary)
            say("\(module) deleted from the node (v\(reply.old) is old)")
        } catch {
            say("\(module): its folder is gone, but the node refused to delete it: \(error.description)", error: true)
        }
    }
}

/// `142 ms` for seconds.
func milliseconds(_ seconds: Double) -> String { "\(Int((seconds * 1000).rounded())) ms" }

/// `142 ms` for a duration.
func milliseconds(_ duration: Duration) -> String { milliseconds(duration.inSeconds) }

/// One line on stdout (or stderr), written at once: `hot watch` runs for
/// hours with its output piped into editors and logs.
private func say(_ line: String, error: Bool = false) {
    if error {
        printError(line)
    } else {
        _ = writeAll(1, Array((line + "\n").utf8))
    }
}
