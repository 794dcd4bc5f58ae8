// Built only with the package trait `Hummingbird`: without it this target is
// empty and Hummingbird is not part of the build.
#if Hummingbird
import HotNode
import Hummingbird

extension Node {
    /// A route handler that hands each request to the current version of
    /// `module`'s export `function`, looked up per request through a typed
    /// handle, so a deploy changes what the route runs without touching the
    /// router:
    ///
    ///     router.get("/hello/:name", use: node.handler("routes", "hello"))
    ///
    /// The module exports it as
    /// `.function("hello") { (request: Request, context: AppContext) async throws -> Response in … }`
    /// with the router's own context type. A request already in a version
    /// finishes there (docs/ARCHITECTURE.md, "Erlang's rules").
    public func handler<Context: RequestContext>(
        _ module: String, _ function: String, context: Context.Type = Context.self
    ) -> @Sendable (Request, Context) async throws -> Response {
        let handle = self.function(module, function, ((Request, Context) async throws -> Response).self)
        return { request, context in try await answering { try await handle(request, context) } }
    }

    /// A route handler like `handler(_:_:context:)` whose export also gets
    /// `object`, something the app owns (a repository, a database client,
    /// its configuration), on every request:
    ///
    ///     router.get("/todos", use: node.handler("todos", "list", with: repository))
    ///
    /// The module exports it as
    /// `.function("list") { (request: Request, context: AppContext, repository: TodoRepository) async throws -> Response in … }`.
    /// The object's type is part of the export's type: a version whose
    /// export takes another type is refused by its load, as a version that
    /// lacks the export is (docs/ARCHITECTURE.md, "Typed handles").
    public func handler<Context: RequestContext, Object: Sendable>(
        _ module: String, _ function: String, with object: Object, context: Context.Type = Context.self
    ) -> @Sendable (Request, Context) async throws -> Response {
        let handle = self.function(module, function, ((Request, Context, Object) async throws -> Response).self)
        return { request, context in try await answering { try await handle(request, context, object) } }
    }

    /// Middleware that hands each request to the current version of
    /// `module`'s export `function`:
    ///
    ///     router.add(middleware: node.middleware("routes", "auth"))
    ///
    /// The module exports it as
    /// `.function("auth") { (request: Request, context: AppContext, next: @escaping @Sendable (Request, AppContext) async throws -> Response) async throws -> Response in … }`.
    /// `next` is Hummingbird's own next responder: `@Sendable`, so the export
    /// may call it from a child task, but valid only until the export
    /// returns: keeping it past that traps (`withoutActuallyEscaping`).
    public func middleware<Context: RequestContext>(
        _ module: String, _ function: String, context: Context.Type = Context.self
    ) -> HotMiddleware<Context> {
        HotMiddleware(node: self, module: module, function: function)
    }
}

/// Hummingbird middleware forwarding to a hot module's export; made by
/// `Node.middleware(_:_:context:)`.
public struct HotMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The next responder as a middleware export receives it.
    public typealias Next = @Sendable (Request, Context) async throws -> Response
    /// The function type of a middleware export.
    public typealias Export = (Request, Context, @escaping Next) async throws -> Response

    private let call: @Sendable (Request, Context, @escaping Next) async throws -> Response

    init(node: Node, module: String, function: String) {
        let handle = node.function(module, function, Export.self)
        call = { request, context, next in try await answering { try await handle(request, context, next) } }
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            let responder = NextResponder(respond: next)
            return try await call(request, context) { request, context in try await responder.respond(request, context) }
        }
    }
}

/// Runs a call through a typed handle: a debug build answers a handle's
/// own failure with a 500 that names it (`HandleFailure.answering`); a
/// release build leaves the body empty, as Hummingbird does for any error.
@inline(__always)
private func answering(_ call: () async throws -> Response) async throws -> Response {
    try await HandleFailure.answering(call) { reason in HTTPError(.internalServerError, message: reason) }
}

/// Hummingbird's next responder, carried into the export as `@Sendable`.
/// Sound because Hummingbird builds it from `Sendable` responders and
/// middleware only (it is not `@Sendable` merely because it is not escaping),
/// and `withoutActuallyEscaping` traps if the export keeps it past its return.
private struct NextResponder<Context>: @unchecked Sendable {
    let respond: (Request, Context) async throws -> Response
}
#endif
