import Hot

extension ExportTable {
    /// A typed handle on the async function `module:function` of one
    /// argument: each call reaches the module's current version, with no terms.
    public func function<A, R>(
        _ module: String, _ function: String, _ type: ((A) async throws -> R).Type
    ) -> AsyncExternalFunction<A, R> {
        AsyncExternalFunction(handle: AsyncHandle(slot: slotCreating(module), function: function, failures: failureLog(module, function)))
    }

    /// A typed handle on an async function of two arguments (a request and its context, say).
    public func function<A, B, R>(
        _ module: String, _ function: String, _ type: ((A, B) async throws -> R).Type
    ) -> AsyncExternalFunction2<A, B, R> {
        AsyncExternalFunction2(handle: AsyncHandle(slot: slotCreating(module), function: function, failures: failureLog(module, function)))
    }

    /// A typed handle on an async function of three arguments.
    public func function<A, B, C, R>(
        _ module: String, _ function: String, _ type: ((A, B, C) async throws -> R).Type
    ) -> AsyncExternalFunction3<A, B, C, R> {
        AsyncExternalFunction3(handle: AsyncHandle(slot: slotCreating(module), function: function, failures: failureLog(module, function)))
    }
}

/// A typed handle on an async export of one argument; see `AsyncHandle`.
public final class AsyncExternalFunction<A, R>: Sendable {
    @usableFromInline let handle: AsyncHandle<@Sendable (A) async throws -> R>
    init(handle: AsyncHandle<@Sendable (A) async throws -> R>) { self.handle = handle }

    /// Calls the function in the module's current version; it finishes in that version.
    @inlinable @inline(__always)
    public func callAsFunction(_ a: A) async throws -> R {
        try await handle.call { f in try await f(a) }
    }
}

/// A typed handle on an async export of two arguments; see `AsyncHandle`.
public final class AsyncExternalFunction2<A, B, R>: Sendable {
    @usableFromInline let handle: AsyncHandle<@Sendable (A, B) async throws -> R>
    init(handle: AsyncHandle<@Sendable (A, B) async throws -> R>) { self.handle = handle }

    /// Calls the function in the module's current version; it finishes in that version.
    @inlinable @inline(__always)
    public func callAsFunction(_ a: A, _ b: B) async throws -> R {
        try await handle.call { f in try await f(a, b) }
    }
}

/// A typed handle on an async export of three arguments; see `AsyncHandle`.
public final class AsyncExternalFunction3<A, B, C, R>: Sendable {
    @usableFromInline let handle: AsyncHandle<@Sendable (A, B, C) async throws -> R>
    init(handle: AsyncHandle<@Sendable (A, B, C) async throws -> R>) { self.handle = handle }

    /// Calls the function in the module's current version; it finishes in that version.
    @inlinable @inline(__always)
    public func callAsFunction(_ a: A, _ b: B, _ c: C) async throws -> R {
        try await handle.call { f in try await f(a, b, c) }
    }
}

/// The typed async path of the export table, for a function of type `F`.
///
/// As `ExternalFunction`: the slot's current version and the cached
/// resolution are two atomic loads, and when both name one version the call
/// goes through unretained references (published objects are never freed).
/// The call is counted in flight on the version it started in, from before
/// it starts to after it ends, thrown or not; a load that would drop that
/// version waits for it, and a purge cancels it (docs/ARCHITECTURE.md,
/// "Calls in flight").
public final class AsyncHandle<F: Sendable>: Sendable {
    @usableFromInline let slot: ModuleSlot
    private let function: String
    @usableFromInline let resolved = Published<Resolved>()
    private let demand: UInt64
    private let failures: CallFailureLog

    /// A function of one version, the version's address and its calls in flight.
    @usableFromInline
    final class Resolved: Sendable {
        @usableFromInline let version: UInt
        @usableFromInline let body: F
        @usableFromInline unowned(unsafe) let calls: CallsInFlight
        init(version: ModuleVersion, body: F) {
            self.version = Published.address(of: version)
            self.body = body
            // The version is never freed, and its counts with it.
            self.calls = version.calls
        }
    }

    /// A handle whose live demand for `function` of type `F` a load must keep
    /// (docs/ARCHITECTURE.md, "Typed handles").
    init(slot: ModuleSlot, function: String, failures: CallFailureLog) {
        self.slot = slot
        self.function = function
        self.failures = failures
        demand = slot.demands.add(ExportDemand(function: function, type: ExportType(F.self)) { $0.typed is F })
    }

    deinit { slot.demands.withdraw(demand) }

    /// Runs `invoke` on the function of the current version, counted in flight there.
    /// Inlined with `callAsFunction` into the caller: each async frame between
    /// the caller and the function costs a task allocation (about 60 ns here).
    @inlinable @inline(__always)
    public func call<R>(_ invoke: (F) async throws -> R) async throws -> R {
        let current = slot.current.address
        // Published, so never freed: no retain for the length of the call.
        unowned(unsafe) var resolution = try resolved.unretained ?? resolve()
        if resolution.version != current { resolution = try resolve() }
        let token = resolution.calls.enter()
        do {
            let result = try await invoke(resolution.body)
            resolution.calls.leave(token)
            return result
        } catch {
            resolution.calls.leave(token, failed: true)
            throw error
        }
    }

    /// Finds the function in the current version and caches it.
    @usableFromInline
    func resolve() throws -> Resolved {
        let (version, body) = try failures.reporting { () throws(CallError) in try typedExport(slot, function, as: F.self) }
        let resolution = Resolved(version: version, body: body)
        resolved.publish(resolution)
        return resolution
    }
}

extension Node {
    /// A typed handle on the async function `module:function` of one
    /// argument, reaching the current version on every call (see `ExportTable`).
    public func function<A, R>(
        _ module: String, _ function: String, _ type: ((A) async throws -> R).Type
    ) -> AsyncExternalFunction<A, R> {
        codeServer.exports.function(module, function, type)
    }

    /// A typed handle on an async function of two arguments:
    /// `node.function("routes", "hello", ((Request, Context) async throws -> Response).self)`.
    public func function<A, B, R>(
        _ module: String, _ function: String, _ type: ((A, B) async throws -> R).Type
    ) -> AsyncExternalFunction2<A, B, R> {
        codeServer.exports.function(module, function, type)
    }

    /// A typed handle on an async function of three arguments.
    public func function<A, B, C, R>(
        _ module: String, _ function: String, _ type: ((A, B, C) async throws -> R).Type
    ) -> AsyncExternalFunction3<A, B, C, R> {
        codeServer.exports.function(module, function, type)
    }

    /// A typed handle on an async function whose last argument is `object`,
    /// something the host owns (a repository, a database client, its
    /// configuration), handed to the current version on every call:
    ///
    ///     let list = node.function("todos", "list", ((Query, TodoRepository) async throws -> [Todo]).self, with: repository)
    ///     let todos = try await list(query)
    ///
    /// The object's type is part of the export's type, which every load
    /// checks against the live handles (docs/ARCHITECTURE.md, "Typed handles").
    public func function<A, Object: Sendable, R>(
        _ module: String, _ function: String, _ type: ((A, Object) async throws -> R).Type, with object: Object
    ) -> @Sendable (A) async throws -> R {
        let handle = codeServer.exports.function(module, function, type)
        return { a in try await handle(a, object) }
    }

    /// The same for a function of two arguments and the object (a request,
    /// its context and the object, say).
    public func function<A, B, Object: Sendable, R>(
        _ module: String, _ function: String, _ type: ((A, B, Object) async throws -> R).Type, with object: Object
    ) -> @Sendable (A, B) async throws -> R {
        let handle = codeServer.exports.function(module, function, type)
        return { a, b in try await handle(a, b, object) }
    }
}
