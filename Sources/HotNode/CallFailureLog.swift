import Hot
import HotPlatform
import Logging

extension ExportTable {
    /// The failure log of a new handle on `module:function`.
    func failureLog(_ module: String, _ function: String) -> CallFailureLog {
        CallFailureLog(handle: "\(module):\(function)", logger: logger)
    }
}

/// The current version of `slot`'s module and its export `function` as `F`,
/// or why a typed handle cannot call it: what every handle's resolution does.
func typedExport<F>(_ slot: ModuleSlot, _ function: String, as type: F.Type) throws(CallError) -> (ModuleVersion, F) {
    // Read the version once: a swap after this only means the next call resolves again.
    guard let version = slot.current.object else { throw .undefinedModule(slot.name) }
    guard let export = version.exports[function]?.export else {
        throw .undefinedFunction(module: slot.name, function: function)
    }
    guard let body = export.typed as? F else {
        throw .notCallable(
            function: "\(slot.name):\(function)",
            reason: "\(slot.name) v\(version.version) has it as \(ExportType(of: export)), the host calls it as \(ExportType(F.self))")
    }
    return (version, body)
}

/// Where a typed handle says why it could not call its function (no
/// module, no such export, another type): at error level, since the caller
/// (a route answering 500) may say nothing, but at most one line per handle
/// every `interval`, the next one counting the failures left unsaid.
final class CallFailureLog: Sendable {
    /// The least time between two lines of one handle.
    static let interval = Duration.seconds(10)
    private let handle: String
    private let logger: Logger?
    private let state = Locked<(last: ContinuousClock.Instant?, unsaid: Int)>((nil, 0))

    init(handle: String, logger: Logger?) {
        self.handle = handle
        self.logger = logger
    }

    /// Runs `body`, logging the error it throws (rate-limited) before passing it on.
    func reporting<T>(_ body: () throws(CallError) -> T) throws(CallError) -> T {
        do {
            return try body()
        } catch {
            report(error)
            throw error
        }
    }

    /// Logs `error` unless a line for this handle went out within `interval` before `now`.
    func report(_ error: CallError, at now: ContinuousClock.Instant = .now) {
        guard let logger else { return }
        let unsaid: Int? = state.withLock { state in
            if let last = state.last, now - last < Self.interval {
                state.unsaid += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.unsaid
        }
        guard let unsaid else { return }
        let more = unsaid == 0 ? "" : " (and \(unsaid) more failure\(unsaid == 1 ? "" : "s") of this call not logged)"
        logger.error("a call through the handle on \(handle) failed: \(error)\(more)")
    }
}

/// What a web adapter tells about a call a typed handle could not make.
public enum HandleFailure {
    /// The reason to put in a debug build's 500 for `error`: its text when
    /// it is a `CallError` (the handle's own failure, or one the export let
    /// through), nil for the export's own errors, which the app answers.
    public static func reason(_ error: any Error) -> String? {
        guard let error = error as? CallError else { return nil }
        return "hot: \(error)"
    }

    /// Runs a web adapter's call through a typed handle. When the handle
    /// cannot call its export (no module, no such export, another type: the
    /// node logs it at error level), a debug build throws `answer(reason)`
    /// instead, the framework's own error for a 500 whose body is the
    /// reason; a release build throws the handle's error as it is, and the
    /// framework answers it as it answers any error. Every adapter answers
    /// the same way through this one place.
    @inlinable @inline(__always)
    public static func answering<R>(_ call: () async throws -> R, or answer: (String) -> any Error) async throws -> R {
        #if DEBUG
        do {
            return try await call()
        } catch {
            guard let reason = reason(error) else { throw error }
            throw answer(reason)
        }
        #else
        try await call()
        #endif
    }
}
