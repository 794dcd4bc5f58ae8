import Hot

/// How the code server reaches a module's code: the seam in front of
/// `dlopen`. `Loader` is the real one; a test hands the code server
/// `HotModule` values built in Swift instead, and every rule of the code
/// server (which version is current, which is old, who may load) runs the
/// same over either.
protocol ModuleLoader: Sendable {
    /// Opens the object at `path` and checks what it says about itself
    /// against this node; none of the module's own code runs yet.
    func open(_ path: String) throws(LoadError) -> ModuleImage

    /// Loads `path` where a crash cannot reach the node (a throwaway child
    /// process) and throws its reason if it fails; does nothing for an
    /// object that passed before. The types of the module's exports as the
    /// trial found them, by name; nil when no trial told them.
    func trial(_ path: String) throws(LoadError) -> [String: ExportType]?

    /// Starts ahead of time what later trials need (a spare trial child).
    func prepareTrials()

    /// Ends what `prepareTrials` started: no process of the node's trials
    /// outlives the node.
    func closeTrials()

    /// For a compaction: waits until no trial runs and lets none start,
    /// then ends the spare; false (nothing held) if trials still ran at
    /// `deadline`. `resumeTrials` undoes it when the compaction failed.
    func suspendTrials(until deadline: ContinuousClock.Instant) -> Bool
    func resumeTrials()

    /// Records objects as having passed their trial: the versions a
    /// compacted node boots ran in the process before it.
    func trust(_ paths: [String])

    /// The modules whose built-in version this process links (see
    /// `BuiltinModules`), each loaded by the path `builtin:NAME`.
    func builtins() -> [String]

    /// What the object at `path` says it is, read without running any of
    /// it; nil when that cannot be read. Boot skips a version built for
    /// another build of the host by it.
    func descriptor(of path: String) -> ModuleDescriptor?
}

extension ModuleLoader {
    func prepareTrials() {}
    func closeTrials() {}
    func suspendTrials(until deadline: ContinuousClock.Instant) -> Bool { true }
    func resumeTrials() {}
    func trust(_ paths: [String]) {}
    func builtins() -> [String] { [] }
    func descriptor(of path: String) -> ModuleDescriptor? { nil }
}

/// An opened object whose descriptor the node accepted: enough to refuse it
/// (a sticky module, a taken version number) before any of its code runs.
struct ModuleImage: Sendable {
    /// What the object says it is.
    let descriptor: ModuleDescriptor
    /// Where it was opened from.
    let path: String
    /// Its size: what it costs to keep mapped.
    let bytes: Int
    /// Runs the module's entry; from then on the module's own code runs.
    let enter: @Sendable () throws(LoadError) -> HotModule
}

extension ModuleImage {
    /// Runs the entry, then the on-load hook (Erlang's `-on_load`): what a
    /// load and a trial load both do once the object is accepted.
    func enterAndRunOnLoad() throws(LoadError) -> HotModule {
        try runOnLoad(enter())
    }

    /// Runs the on-load hook of `module`, this image's entered module.
    func runOnLoad(_ module: HotModule) throws(LoadError) -> HotModule {
        if let onLoad = module.onLoad {
            do {
                try onLoad()
            } catch {
                throw .onLoadFailure(module: descriptor.name, message: "\(error)")
            }
        }
        return module
    }
}
