#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject
import HotWire

/// What a node keeps about compaction (docs/ARCHITECTURE.md, "Compaction").
/// Its lock is a leaf: nothing else is locked while it is held.
struct CompactionState {
    /// The arguments the process re-executes itself with; nil when it may
    /// not (a server that embeds the node owns its process).
    var arguments: [String]?
    /// When the node compacts by itself.
    var threshold = CompactionThreshold()
    /// Set from the start of a compaction until it failed (a success ends the process).
    var underWay = false
    /// Versions mapped once boot finished: what a load threshold counts from.
    var versionsAtBoot = 0
    /// Listening sockets inherited from the process before, by the address
    /// the node was told (its flag), until `listen` takes each over.
    var inherited: [String: CompactionHandoff.Listening] = [:]
    /// The record being made, until the last inherited listener serves, and
    /// when the process before stopped accepting (CLOCK_MONOTONIC).
    var pending: StatusReply.Compaction?
    var pausedAt = 0.0
    /// The record of the last compaction, for status.
    var last: StatusReply.Compaction?
    /// When a compaction the threshold asked for was last refused: such a
    /// refusal is tried again (and logged) at most once a minute.
    var thresholdRefusedAt: ContinuousClock.Instant?
    /// How long a refused threshold compaction waits before it is tried again.
    static let thresholdRetry: Duration = .seconds(60)
}

extension Node {
    /// How long a compaction waits for the connections it told to reconnect
    /// to end, and for its servers to hand their state over.
    static let compactionDrainTimeout: Duration = .seconds(5)

    /// Lets the node compact by re-executing its own executable with
    /// `arguments` (its `argv`, the executable's name first), and by itself
    /// past `threshold`. Only a process that is nothing but a node may:
    /// `hotnode` calls this; a server that embeds a node does not.
    public func allowCompaction(arguments: [String], threshold: CompactionThreshold) {
        compaction.withLock { state in
            state.arguments = arguments
            state.threshold = threshold
        }
    }

    /// Re-executes the process in place with only the current versions
    /// mapped (docs/ARCHITECTURE.md, "Compaction"). Accepting stops (clients
    /// connecting meanwhile wait in the backlog), every connection but
    /// `requester` is told to reconnect, no load or trial runs, plain
    /// processes refuse it (or, with `purge`, are stopped), and every server
    /// hands over its state; `announce` then answers the requester, and the
    /// process execs. Returns only by throwing: before the exec, with
    /// everything as it was; after a failed exec, likewise, though the
    /// requester was answered.
    func compact(
        trigger: String, purge: Bool, requester: ObjectIdentifier?, announce: (CompactReply) -> Bool
    ) throws(CompactionRefusal) -> Never {
        let arguments: [String] = try compaction.withLock { (state) throws(CompactionRefusal) -> [String] in
            guard let arguments = state.arguments else { throw .notSupported }
            guard !state.underWay else { throw .busy("a compaction is under way already") }
            state.underWay = true
            return arguments
        }
        let listening = servers.withLock { $0 }
        var handOffs: [ServerHandOff] = []
        var trialsSuspended = false
        do throws(CompactionRefusal) {
            // Monotonic seconds, not a ContinuousClock instant: it is carried
            // across the exec in the hand-off (a number the new image reads),
            // and CLOCK_MONOTONIC goes on counting across it, so the new image
            // can tell how long clients waited.
            let pausedAt = monotonic()
            let deadline = ContinuousClock.now + Self.compactionDrainTimeout
            for (listener, server, _) in listening {
                guard server.beginCompaction(listener, requester: requester, until: deadline) else {
                    throw .busy("connections were still inside requests after \(Self.compactionDrainTimeout.shortDescription)")
                }
            }
            guard codeServer.loader.suspendTrials(until: deadline) else {
                throw .busy("trial loads were still running after \(Self.compactionDrainTimeout.shortDescription)")
            }
            trialsSuspended = true
            let error = try codeServer.exclusively { () throws(CompactionRefusal) -> SystemError in
                let stopped = try stopPlainProcesses(purge: purge)
                let cancelledTasks = try cancelTrackedTasks(purge: purge)
                // A server moves to its module's current version first; one
                // whose code change fails stays old, and refuses to hand over.
                let serverModules = Set(processes.all().compactMap { entry -> String? in
                    if case .server = entry.process.kind { return entry.process.module }
                    return nil
                })
                for module in serverModules.sorted() { _ = kernel.migrateServers(of: module) }
                let carried = try kernel.handOffServers(timeout: Self.compactionDrainTimeout, into: &handOffs)
                let modules = codeServer.snapshot().compactMap { module in
                    module.current.map { CompactionHandoff.Module(name: module.name, version: $0.version, path: $0.path) }
                }
                let memory = ProcessMemory.current()
                let versions = codeServer.mappedVersions
                let handoff = CompactionHandoff(
                    trigger: trigger, pausedAt: pausedAt, versionsBefore: versions, residentBefore: memory.resident,
                    mappingsBefore: memory.mappings, modules: modules, servers: carried, kept: codeServer.kept.snapshot(),
                    nextPid: processes.nextPid,
                    listeners: listening.map { listener, _, configured in
                        CompactionHandoff.Listening(
                            configured: configured.description, bound: listener.address.description,
                            descriptor: listener.keepAcrossExec())
                    })
                logger.notice("compacting (\(trigger)): \(versions) versions mapped, \(modules.count) current; \(carried.count) servers carried")
                _ = announce(CompactReply(
                    node: name, pid: Int(getpid()), modules: Dictionary(modules.map { ($0.name, $0.version) }, uniquingKeysWith: { a, _ in a }),
                    servers: carried.map { Pid($0.pid).description }, stopped: stopped.map(\.description), versionsBefore: versions,
                    residentBefore: memory.resident, mappingsBefore: memory.mappings,
                    cancelledTasks: cancelledTasks.isEmpty ? nil : cancelledTasks))
                let error = handoff.exec(arguments: arguments)
                for (listener, _, _) in listening { listener.closeOnExec() }
                return error
            }
            throw .exec(error)
        } catch {
            for handOff in handOffs { handOff.resume.put(.success(.null)) }
            if trialsSuspended { codeServer.loader.resumeTrials() }
            for (_, server, _) in listening { server.endCompaction() }
            compaction.withLock { $0.underWay = false }
            throw error
        }
    }

    /// Plain processes cannot cross an exec: refused, or with `purge` told
    /// to stop and waited for; returns those stopped.
    private func stopPlainProcesses(purge: Bool) throws(CompactionRefusal) -> [Pid] {
        let plain = processes.all().compactMap { entry -> NodeProcess? in
            if case .plain = entry.process.kind { return entry.process }
            return nil
        }
        guard !plain.isEmpty else { return [] }
        guard purge else { throw .plainProcesses(plain.map(\.pid)) }
        for process in plain { process.mailbox.cancel() }
        let stubborn = processes.waitForEnd(of: plain.map(\.pid), until: .now + codeServer.purgeTimeout)
        guard stubborn.isEmpty else { throw .stubborn(stubborn) }
        logger.info("stopped \(plain.count) plain processes for the compaction")
        return plain.map(\.pid)
    }

    /// Tracked tasks cannot cross an exec either: refused, or with `purge`
    /// cancelled and waited for as a purge waits; returns those cancelled.
    /// The on-load hooks run again in the new process, so a task one of
    /// them starts comes back there (docs/RELOADING.md).
    private func cancelTrackedTasks(purge: Bool) throws(CompactionRefusal) -> [String] {
        let running = codeServer.tasks.all()
        guard !running.isEmpty else { return [] }
        guard purge else { throw .trackedTasks(running.map(\.description)) }
        codeServer.tasks.cancel(running.map(\.id))
        let unended = codeServer.tasks.waitForEnd(of: running.map(\.id), until: .now + codeServer.purgeTimeout)
        guard unended.isEmpty else { throw .unendedTasks(unended.map(\.description)) }
        logger.info("cancelled \(running.count) tracked tasks for the compaction")
        return running.map(\.description)
    }

    /// After a load: compacts on a thread of its own when the threshold is
    /// passed. A refusal (plain processes running) is logged, and tried
    /// again at a later load, at most once a minute.
    func compactIfDue() {
        let versions = codeServer.mappedVersions
        let due = compaction.withLock { state -> (loads: Int, bytes: Int?)? in
            guard state.arguments != nil, !state.underWay, state.thresholdRefusedAt.map({ $0 + CompactionState.thresholdRetry <= .now }) ?? true else { return nil }
            let loads = versions - state.versionsAtBoot
            if let limit = state.threshold.loads, loads >= limit { return (loads, nil) }
            if state.threshold.retainedBytes != nil { return (loads, state.threshold.retainedBytes) }
            return nil
        }
        guard let due else { return }
        if let limit = due.bytes {
            guard codeServer.retainedBytes() >= limit else { return }
        }
        do {
            try startThread { [self] in
                do throws(CompactionRefusal) {
                    try compact(trigger: "threshold", purge: false, requester: nil) { _ in true }
                } catch {
                    compaction.withLock { $0.thresholdRefusedAt = .now }
                    logger.warning("the compaction threshold is passed (\(due.loads) versions loaded since boot): \(error)")
                }
            }
        } catch {
            // Tried again after the next load past the threshold.
            logger.warning("no thread to compact on: \(error)")
        }
    }

    /// Boots what the process before this one handed over, if this process
    /// is a compaction's exec: its current versions, by the same files and
    /// so the same version numbers; its servers, pids and names, their state
    /// decoded by the same versions. True when it did. A failure to read
    /// the handoff falls back to the permanent set, as after any restart.
    func bootCompacted() -> Bool {
        let handoff: CompactionHandoff
        do throws(SystemError) {
            guard let inherited = try CompactionHandoff.takeInherited() else { return false }
            handoff = inherited
        } catch {
            logger.error("\(error); booting the permanent set instead")
            return false
        }
        // Each of these ran in the process before: their trials passed there.
        codeServer.loader.trust(handoff.modules.map(\.path))
        // Before any module's code runs: an on-load hook may read it.
        codeServer.kept.restore(handoff.kept)
        for module in handoff.modules {
            do {
                for result in try codeServer.load([module.path]) where result.to != module.version {
                    logger.error("compaction: \(module.name) came back as v\(result.to), not v\(module.version)")
                }
            } catch {
                logger.error("compaction: could not boot \(module.name) v\(module.version) from \(module.path): \(error)")
            }
        }
        processes.reserve(next: handoff.nextPid)
        var carried: [String] = []
        for server in handoff.servers {
            do {
                try kernel.restoreServer(server)
                carried.append(Pid(server.pid).description)
            } catch {
                logger.error("compaction: server \(Pid(server.pid)) (\(server.module) v\(server.version)) did not cross: \(error)")
            }
        }
        let record = StatusReply.Compaction(
            at: 0, trigger: handoff.trigger, pausedMilliseconds: 0, versionsBefore: handoff.versionsBefore, versionsAfter: 0,
            residentBefore: handoff.residentBefore, residentAfter: 0, mappingsBefore: handoff.mappingsBefore, mappingsAfter: 0,
            servers: carried)
        compaction.withLock { state in
            state.inherited = Dictionary(handoff.listeners.map { ($0.configured, $0) }, uniquingKeysWith: { a, _ in a })
            state.pending = record
            state.pausedAt = handoff.pausedAt
        }
        return true
    }

    /// The listening socket inherited for `address`, taken over; nil when
    /// none was.
    func adoptInherited(_ address: NodeAddress) throws(SystemError) -> Listener? {
        guard let inherited = compaction.withLock({ $0.inherited.removeValue(forKey: address.description) }) else { return nil }
        guard let bound = NodeAddress(parsing: inherited.bound) else {
            throw SystemError("inherited listener of \(address) has an unreadable address \(inherited.bound)", errno: .invalidArgument)
        }
        return try Listener.adopt(descriptor: inherited.descriptor, address: bound)
    }

    /// Just before the first inherited listener serves again: the
    /// compaction's record, with how long clients waited and what the
    /// process holds now. Not after: a status answered in between would
    /// show no record, and `hot compact` would take the exec for failed.
    func finishCompactionRecord() {
        guard compaction.withLock({ $0.pending != nil }) else { return }
        let memory = ProcessMemory.current()
        let versions = codeServer.mappedVersions
        let now = monotonic()
        let record = compaction.withLock { state -> StatusReply.Compaction? in
            guard var record = state.pending else { return nil }
            let paused = (now - state.pausedAt) * 1000
            state.pending = nil
            record.at = HotPlatform.now()
            record.pausedMilliseconds = (paused * 10).rounded() / 10
            record.versionsAfter = versions
            record.residentAfter = memory.resident
            record.mappingsAfter = memory.mappings
            state.last = record
            return record
        }
        guard let record else { return }
        logger.notice("compacted: serving again after \(record.pausedMilliseconds) ms; versions mapped \(record.versionsBefore) -> \(record.versionsAfter), resident \(record.residentBefore / 1024) -> \(record.residentAfter / 1024) KiB, mappings \(record.mappingsBefore) -> \(record.mappingsAfter)")
    }
}
