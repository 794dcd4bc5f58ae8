#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// What a process's mailbox holds.
enum Envelope: Sendable {
    /// A plain message (`Process.send`); a server's `handleInfo`.
    case message(Term)
    /// A server call awaiting its reply.
    case call(Term, Reply)
    /// A server cast.
    case cast(Term)
    /// Move a server's state to the module's current version now; reply with the outcome.
    case codeChange(Reply)
    /// Hand the server's state over for a compaction, then wait to be told
    /// to go on (docs/ARCHITECTURE.md, "Compaction").
    case handOff(ServerHandOff)
}

/// A server's part in a compaction: the server answers `state` with its
/// state as a term and then waits on `resume`, which only a compaction that
/// failed before its exec opens (a successful one ends the process).
final class ServerHandOff: Sendable {
    let state = Reply()
    let resume = Reply()
    /// How long a server waits for `resume` before it goes on regardless.
    static let resumeTimeout: Duration = .seconds(60)
}

/// A process's queue of envelopes, and its stop flag.
final class Mailbox: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = Condition()
    private var queue: [Envelope] = []
    private var head = 0
    private var cancelled = false
    private var closed = false

    /// Adds an envelope; false once the process has ended.
    func post(_ envelope: Envelope) -> Bool {
        condition.withLock {
            guard !closed else { return false }
            queue.append(envelope)
            condition.broadcast()
            return true
        }
    }

    /// The next envelope, nil once `timeout` has passed; throws when cancelled.
    func take(timeout: Duration?) throws(ProcessError) -> Envelope? {
        let deadline = timeout.map { ContinuousClock.now + max(.zero, $0) }
        let result: Result<Envelope?, ProcessError> = condition.withLock {
            while true {
                if cancelled { return .failure(.cancelled) }
                if head < queue.count {
                    let envelope = queue[head]
                    head += 1
                    if head > 64 && head * 2 > queue.count {
                        queue.removeFirst(head)
                        head = 0
                    }
                    return .success(envelope)
                }
                if !condition.wait(until: deadline) { return .success(nil) }
            }
        }
        return try result.get()
    }

    /// Tells the process to stop: its next `take` (or `checkCancellation`) throws.
    func cancel() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
    }

    /// Whether the process was told to stop.
    var isCancelled: Bool { condition.withLock { cancelled } }

    /// Refuses further envelopes and answers pending calls with an error.
    func close(reason: String) {
        let pending: [Envelope] = condition.withLock {
            closed = true
            defer { queue.removeAll() }
            return Array(queue[head...])
        }
        for envelope in pending {
            switch envelope {
            case .call(_, let reply), .codeChange(let reply): reply.put(.failure(ProcessError.serverEnded(reason)))
            case .handOff(let handOff): handOff.state.put(.failure(ProcessError.serverEnded(reason)))
            case .message, .cast: break
            }
        }
    }
}

/// A one-shot reply slot for a server call.
typealias Reply = OneShot<Result<Term, any Error>>
