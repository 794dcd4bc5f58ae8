#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// A process: a thread with a pid, a mailbox and the version it runs in.
final class NodeProcess: Sendable {
    enum Kind: Sendable, Equatable {
        case plain(function: String)
        case server(String)
    }

    let pid: Pid
    let name: String?
    let module: String
    let kind: Kind
    let mailbox = Mailbox()

    init(pid: Pid, name: String?, module: String, kind: Kind) {
        self.pid = pid
        self.name = name
        self.module = module
        self.kind = kind
    }
}

/// Every live process, the version each one runs, and the registered names.
/// A process's version changes only from its own thread (a code switch or a
/// server's state migration); the code server reads it to decide purges.
final class ProcessTable: @unchecked Sendable {
    // @unchecked: `state` is read and written only under `lock`.
    struct Entry: Sendable {
        let process: NodeProcess
        var version: ModuleVersion
    }

    private struct State {
        var entries: [Pid: Entry] = [:]
        var names: [String: Pid] = [:]
        var nextPid: UInt64 = 1
    }

    /// The table's lock, and the condition a purge waits on for processes
    /// to end. Last in the node's lock order (docs/ARCHITECTURE.md, "Lock
    /// order"): the code server's `loading`, then its `state`, then this;
    /// nothing else is locked while it is held.
    private let lock = Condition()
    private var state = State()
    /// Processes at once (`NodeLimits.processes`).
    let limit: Int

    init(limit: Int = NodeLimits().processes) { self.limit = limit }

    private func withState<R>(_ body: (inout State) -> R) -> R {
        lock.withLock { body(&state) }
    }

    /// Adds a process pinned to `version`; refuses a name already taken.
    /// `pid` is given only to a server carried across a compaction.
    func register(module: String, version: ModuleVersion, name: String?, kind: NodeProcess.Kind, pid given: Pid? = nil) throws(ProcessError) -> NodeProcess {
        let result: Result<NodeProcess, ProcessError> = withState { state in
            if let name, state.names[name] != nil { return .failure(.nameTaken(name)) }
            if let given, state.entries[given] != nil { return .failure(.nameTaken(given.description)) }
            // A server carried across a compaction (`given`) was within the limit already.
            if given == nil, state.entries.count >= limit {
                return .failure(.systemLimit("the node runs \(limit) processes already, its limit; let some end first"))
            }
            let pid = given ?? Pid(state.nextPid)
            state.nextPid = max(state.nextPid, pid.id + 1)
            let process = NodeProcess(pid: pid, name: name, module: module, kind: kind)
            state.entries[pid] = Entry(process: process, version: version)
            if let name { state.names[name] = pid }
            return .success(process)
        }
        return try result.get()
    }

    /// Removes an ended process and wakes whoever waits for it.
    func remove(_ pid: Pid) {
        withState { state in
            if let entry = state.entries.removeValue(forKey: pid), let name = entry.process.name,
                state.names[name] == pid
            {
                state.names[name] = nil
            }
            lock.broadcast()
        }
    }

    /// Moves a process to another version (its own thread calls this).
    func repin(_ pid: Pid, to version: ModuleVersion) {
        withState { $0.entries[pid]?.version = version }
    }

    func process(_ pid: Pid) -> NodeProcess? { withState { $0.entries[pid]?.process } }

    /// The version a process runs now.
    func version(of pid: Pid) -> ModuleVersion? { withState { $0.entries[pid]?.version } }

    /// The pid the next process gets; after a compaction, never one given
    /// before it (`reserve`), so a pid a client holds names one process only.
    var nextPid: UInt64 { withState { $0.nextPid } }

    /// Makes later pids start at `next` at least.
    func reserve(next: UInt64) { withState { $0.nextPid = max($0.nextPid, next) } }

    func whereis(_ name: String) -> Pid? { withState { $0.names[name] } }

    /// The processes running in `version`.
    func pinned(to version: ModuleVersion) -> [NodeProcess] {
        withState { state in
            state.entries.values.filter { $0.version === version }.map(\.process).sorted { $0.pid < $1.pid }
        }
    }

    /// Every process, by pid.
    func all() -> [Entry] {
        withState { $0.entries.values.sorted { $0.process.pid < $1.process.pid } }
    }

    /// Waits until none of `pids` lives or `deadline` passes; returns those still alive.
    func waitForEnd(of pids: [Pid], until deadline: ContinuousClock.Instant) -> [Pid] {
        return lock.withLock {
            while true {
                let alive = pids.filter { state.entries[$0] != nil }
                if alive.isEmpty || ContinuousClock.now >= deadline { return alive }
                // Checked and waited under the one lock `remove` broadcasts
                // under: an end between the check and the wait is not missed.
                _ = lock.wait(until: deadline)
            }
        }
    }
}
