import Hot
import HotPlatform

/// The synchronous call path's way into an async export (`hot call`, a
/// process's `Modules.call`): runs the export's body over terms in a task
/// of its own and waits for it on a condition, up to a deadline, then
/// cancels it.
///
/// The waiting thread blocks, so it must never be a thread of Swift's
/// cooperative pool: with two cores, two such waits would leave the task
/// nowhere to run. The node's callers are its own threads (connections,
/// processes); a call from inside a task is refused as `notCallable`
/// rather than blocking the pool (async code uses a typed handle). The task
/// itself runs on the node's bridge thread (`ThreadExecutor.bridge`), not on the pool, so that
/// `hot call` answers even while the host's own work holds every thread of
/// the pool.
struct AsyncBridge: Sendable {
    let function: String
    let body: @Sendable ([Term]) async throws -> Term
    let calls: CallsInFlight
    /// How long a call over terms may run before it is cancelled and fails.
    static let timeout: Duration = .seconds(30)

    func call(_ args: [Term]) throws -> Term {
        if withUnsafeCurrentTask(body: { $0 != nil }) {
            throw CallError.notCallable(function: function, reason: "it is async and the caller runs in a task; call it through a typed handle")
        }
        // The call's result, handed from its task to this waiting thread.
        let outcome = OneShot<Result<Term, any Error>>()
        let (body, calls) = (self.body, self.calls)
        let task = Task(executorPreference: ThreadExecutor.bridge) {
            // Counted from inside the task, so that a purge cancels this task.
            let token = calls.enter()
            do {
                let result = try await body(args)
                calls.leave(token)
                outcome.put(.success(result))
            } catch {
                calls.leave(token, failed: true)
                outcome.put(.failure(error))
            }
        }
        guard let result = outcome.wait(until: .now + Self.timeout) else {
            task.cancel()
            throw CallError.raised(function: function, message: "did not finish within \(Self.timeout.shortDescription); cancelled")
        }
        return try result.get()
    }
}
