import Hot

/// The runtime of a trial child (`TrialLoad.runChild`): a new version's
/// entry and on-load hook run there first, with no node around them. Calls,
/// processes and servers fail as `noNode`, as they always did there; a
/// tracked task is registered but not started, since the child exits as
/// soon as the hook returns; kept state is the child's own and starts
/// empty, so a hook that reads it sees its default.
final class TrialRuntime: NodeRuntime {
    private let kept = KeptStore()

    func call(_ module: String, _ function: String, _ args: [Term]) throws -> Term { throw ProcessError.noNode }
    func spawn(_ module: String, _ function: String, _ args: [Term], name: String?) throws -> Pid { throw ProcessError.noNode }
    func startServer(_ module: String, _ server: String, _ args: [Term], name: String?) throws -> Pid { throw ProcessError.noNode }
    func send(_ message: Term, to pid: Pid) -> Bool { false }
    func whereis(_ name: String) -> Pid? { nil }
    func selfPid() -> Pid? { nil }
    func receive(timeout: Duration?) throws -> Term? { throw ProcessError.noNode }
    func checkCancellation() throws { throw ProcessError.noNode }
    func serverCall(_ pid: Pid, _ request: Term, timeout: Duration) throws -> Term { throw ProcessError.noNode }
    func serverCast(_ pid: Pid, _ message: Term) -> Bool { false }

    func startTask(
        _ label: String, lifetime: TaskLifetime, site: CallSite, _ body: @escaping @Sendable () async throws -> Void
    ) throws -> UInt64 {
        guard site.version != nil else { throw ProcessError.notInModule(site.fileID) }
        return 0
    }

    func cancelTask(_ id: UInt64) {}

    func withKept<R>(_ module: String, _ key: String, _ body: (inout Term?) throws -> R) throws -> R {
        try kept.withValue(module, key, body)
    }
}
