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
        return { request, context in try await handle(request, context) }
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
        call = { request, context, next in try await handle(request, context, next) }
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

/// Hummingbird's next responder, carried into the export as `@Sendable`.
/// Sound because Hummingbird builds it from `Sendable` responders and
/// middleware only (it is not `@Sendable` merely because it is not escaping),
/// and `withoutActuallyEscaping` traps if the export keeps it past its return.
private struct NextResponder<Context>: @unchecked Sendable {
    let respond: (Request, Context) async throws -> Response
}
#endif
