#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject

/// The builder's compile loop: each job's steps (the driver, or the frontend,
/// autolink and link of its plan), at most `jobs` modules at once.
extension Builder {
    /// How one job ended.
    enum Outcome {
        case success(sha256: String, took: Duration)
        case failure(CompileFailure)
    }

    /// How one job is compiled: by the driver, or by the steps of its plan.
    private enum Route {
        case driver
        case direct(DriverPlan.Steps)
    }

    /// A compiler step running for a job.
    private struct Running {
        let index: Int
        let process: Subprocess
        let log: String
        let started: ContinuousClock.Instant
        /// 0 for the driver or the frontend, then autolink (1) and link (2).
        let stage: Int
    }

    /// How each job is compiled: directly, with the plan derived from the
    /// driver (docs/ARCHITECTURE.md, "Direct build"), unless HOT_BUILD_DRIVER
    /// is set or no plan can be derived, which is said once per plan key.
    private func routes(
        _ plan: [CompileJob], toolchain: Toolchain, cache: DriverPlanCache, progress: (BuildEvent) -> Void
    ) -> [Route] {
        if let forced = getenv("HOT_BUILD_DRIVER"), String(cString: forced) != "", String(cString: forced) != "0" {
            return plan.map { _ in .driver }
        }
        return plan.map { job in
            switch cache.lookup(job, toolchain: toolchain) {
            case .direct(let steps): return .direct(steps)
            case .driver(let reason, let announce):
                if announce { progress(.usingDriver(reason: reason)) }
                return .driver
            }
        }
    }

    /// Runs the jobs, at most `jobs` modules at once, each through its steps
    /// in order. On SIGINT or SIGTERM the running steps are stopped and every
    /// temporary and intermediate file removed before the build reports
    /// `.interrupted`, so no partial artifact survives. With a
    /// `supersession`, newer saves of a module being built stop the build
    /// the same way, as `.superseded`.
    func run(
        _ plan: [CompileJob], toolchain: Toolchain, jobs: Int, supersession: (any BuildSupersession)? = nil,
        progress: (BuildEvent) -> Void
    ) throws(BuildError) -> [Outcome] {
        guard !plan.isEmpty else { return [] }
        // Caught before deriving plans, so that Ctrl-C during a derivation
        // still lets it remove its scratch folder.
        let interruption = Interruption.install()
        defer { interruption.uninstall() }
        let cache = DriverPlanCache(directory: project.layout.driverPlansDirectory)
        let routes = routes(plan, toolchain: toolchain, cache: cache, progress: progress)
        var outcomes = [Outcome?](repeating: nil, count: plan.count)
        var running: [pid_t: Running] = [:]
        func intermediates(_ index: Int) -> [String] {
            if case .direct(let steps) = routes[index] { return steps.intermediates }
            return []
        }
        func abandon() {
            // SIGINT: a frontend or linker run directly is our own child; the
            // swiftc driver forwards it to the ones it starts (each in a
            // process group of its own, so no group signal reaches them; on
            // SIGTERM the driver dies alone, and they live on to write into
            // files removed below).
            for (_, entry) in running { entry.process.signal(SIGINT) }
            for (_, entry) in running {
                _ = entry.process.wait()
                unlink(entry.log)
            }
            // Artifacts already renamed into place are whole, but the manifest
            // will not record them: they go too.
            for (index, (job, outcome)) in zip(plan, outcomes).enumerated() {
                unlink(job.temporaryOutput)
                unlink(job.temporaryOutput + ".log")
                unlink(job.entryFile)
                for file in intermediates(index) { unlink(file) }
                if case .success? = outcome { unlink(job.output) }
            }
        }
        /// Starts step `stage` of job `index`, its output appended to `log`;
        /// the link takes the autolink entries.
        func start(_ index: Int, stage: Int, log: String, started: ContinuousClock.Instant, entries: [String] = []) throws(SystemError) {
            let command: [String]
            switch (routes[index], stage) {
            case (.driver, _): command = [toolchain.swiftc] + plan[index].arguments
            case (.direct(let steps), 0):
                for (path, bytes) in steps.inputs { try writeFileAtomically(path, bytes, durable: false) }
                command = steps.frontend
            case (.direct(let steps), 1): command = steps.autolink
            case (.direct(let steps), _): command = steps.link(entries: entries)
            }
            let process = try Subprocess.spawn(command[0], Array(command.dropFirst()), output: .file(log))
            running[process.pid] = Running(index: index, process: process, log: log, started: started, stage: stage)
        }
        /// Starts the step after `entry`'s, which ended well: after the
        /// frontend, the autolink tool unless its answer for this object's
        /// section is known; after the tool, the link, with what it wrote.
        func advance(_ entry: Running, _ steps: DriverPlan.Steps) throws(SystemError) {
            let section = (try? ELFNotes.section(named: ".swift1_autolink_entries", ofFile: steps.intermediates[0])) ?? nil
            if entry.stage == 0 {
                if let section, let known = cache.autolinkEntries(section: section, toolchain: toolchain) {
                    // Written as the tool would have: an entry the linker's
                    // line cannot take links through clang's, which reads it.
                    try writeFileAtomically(steps.intermediates[1], Array(known.map { $0 + "\n" }.joined().utf8), durable: false)
                    try start(entry.index, stage: 2, log: entry.log, started: entry.started, entries: known)
                } else {
                    try start(entry.index, stage: 1, log: entry.log, started: entry.started)
                }
                return
            }
            let list = readFile(steps.intermediates[1]).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let entries = list.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            if let section { cache.remember(autolink: entries, section: section, toolchain: toolchain) }
            try start(entry.index, stage: 2, log: entry.log, started: entry.started, entries: entries)
        }
        var next = 0
        while next < plan.count || !running.isEmpty {
            if Interruption.happened {
                abandon()
                throw .interrupted
            }
            while running.count < jobs && next < plan.count {
                let job = plan[next]
                let log = job.temporaryOutput + ".log"
                do {
                    try makeDirectories(parentDirectory(job.output))
                    // Read once by the compiler and removed: no fsync.
                    try writeFileAtomically(job.entryFile, Array(job.entrySource.utf8), durable: false)
                    unlink(log)
                    try start(next, stage: 0, log: log, started: .now)
                    progress(.compiling(module: job.module, version: job.version, index: next + 1, total: plan.count))
                } catch {
                    abandon()
                    throw .system(error)
                }
                next += 1
            }
            // Waits on these steps alone: a waitpid(-1) here would reap
            // children that other parts of the process started.
            let ended: Subprocess?
            do {
                let steps = running.values.map(\.process)
                if let supersession {
                    ended = try Subprocess.firstExited(of: steps, alsoWatching: supersession.events.descriptor)
                } else {
                    ended = try Subprocess.firstExited(of: steps)
                }
            } catch {
                abandon()
                throw .system(error)
            }
            if ended == nil, let supersession, supersession.supersedes(plan.map(\.module)) {
                abandon()
                throw .superseded
            }
            guard let ended, let entry = running.removeValue(forKey: ended.pid) else { continue }
            let job = plan[entry.index]
            let exit = ended.wait()
            if exit == 0, case .direct(let steps) = routes[entry.index], entry.stage < 2, !Interruption.happened {
                do {
                    try advance(entry, steps)
                } catch {
                    abandon()
                    throw .system(error)
                }
                continue
            }
            let output = readFile(entry.log).map { String(decoding: $0, as: UTF8.self) } ?? ""
            unlink(entry.log)
            unlink(job.entryFile)
            for file in intermediates(entry.index) { unlink(file) }
            let took = ContinuousClock.now - entry.started
            if !Interruption.happened, exit == 0, let bytes = readFile(job.temporaryOutput),
                rename(job.temporaryOutput, job.output) == 0
            {
                outcomes[entry.index] = .success(sha256: SHA256Hasher.hex(of: bytes), took: took)
                progress(.compiled(module: job.module, version: job.version, took: took, ok: true))
            } else {
                unlink(job.temporaryOutput)
                outcomes[entry.index] = .failure(CompileFailure(module: job.module, status: exit, output: output))
                if !Interruption.happened {
                    progress(.compiled(module: job.module, version: job.version, took: took, ok: false))
                }
            }
        }
        if Interruption.happened {
            abandon()
            throw .interrupted
        }
        return outcomes.map { $0! }
    }
}
