// Built only with the package trait `Vapor`: without it this target is
// empty and Vapor is not part of the build.
#if Vapor
import HotNode
import Vapor

extension Node {
    /// A route handler that hands each request to the current version of
    /// `module`'s export `function`, looked up per request through a typed
    /// handle, so a deploy changes what the route runs without touching the
    /// routes:
    ///
    ///     app.get("hello", ":name", use: node.handler("routes", "hello"))
    ///
    /// The module exports it as
    /// `.function("hello") { (request: Request) async throws -> Response in … }`:
    /// Vapor's `Request` carries the application, the parameters and the
    /// event loop, so it is the one argument. A request already in a version
    /// finishes there (docs/ARCHITECTURE.md, "Erlang's rules").
    public func handler(_ module: String, _ function: String) -> @Sendable (Request) async throws -> Response {
        let handle = self.function(module, function, ((Request) async throws -> Response).self)
        return { request in try await answering { try await handle(request) } }
    }

    /// A route handler like `handler(_:_:)` whose export also gets `object`,
    /// something the app owns (a repository, a database client, its
    /// configuration), on every request:
    ///
    ///     app.get("todos", use: node.handler("todos", "list", with: repository))
    ///
    /// The module exports it as
    /// `.function("list") { (request: Request, repository: TodoRepository) async throws -> Response in … }`.
    /// The object's type is part of the export's type: a version whose
    /// export takes another type is refused by its load, as a version that
    /// lacks the export is (docs/ARCHITECTURE.md, "Typed handles").
    public func handler<Object: Sendable>(
        _ module: String, _ function: String, with object: Object
    ) -> @Sendable (Request) async throws -> Response {
        let handle = self.function(module, function, ((Request, Object) async throws -> Response).self)
        return { request in try await answering { try await handle(request, object) } }
    }

    /// Middleware that hands each request to the current version of
    /// `module`'s export `function`:
    ///
    ///     app.middleware.use(node.middleware("routes", "stamp"))
    ///
    /// The module exports it as
    /// `.function("stamp") { (request: Request, next: any AsyncResponder) async throws -> Response in … }`.
    /// `next` is Vapor's own next responder, an ordinary value: the export
    /// calls `next.respond(to: request)` to go on down the chain.
    public func middleware(_ module: String, _ function: String) -> HotMiddleware {
        HotMiddleware(node: self, module: module, function: function)
    }

    /// A responder that hands every request it gets to the current version
    /// of `module`'s export `function`, typed as a handler's is: mount it
    /// under a path with `RoutesBuilder.forward(_:to:)`, and the module does
    /// all the routing below it.
    public func responder(_ module: String, _ function: String) -> HotResponder {
        HotResponder(node: self, module: module, function: function)
    }
}

/// Vapor middleware forwarding to a hot module's export; made by
/// `Node.middleware(_:_:)`.
public struct HotMiddleware: AsyncMiddleware {
    /// The function type of a middleware export.
    public typealias Export = (Request, any AsyncResponder) async throws -> Response

    private let call: @Sendable (Request, any AsyncResponder) async throws -> Response

    init(node: Node, module: String, function: String) {
        let handle = node.function(module, function, Export.self)
        call = { request, next in try await answering { try await handle(request, next) } }
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        try await call(request, next)
    }
}

/// A Vapor responder forwarding every request to one export of a hot
/// module, which routes them itself; made by `Node.responder(_:_:)`.
public struct HotResponder: AsyncResponder {
    /// The function type of the export: a handler's.
    public typealias Export = (Request) async throws -> Response

    private let call: @Sendable (Request) async throws -> Response

    init(node: Node, module: String, function: String) {
        call = node.handler(module, function)
    }

    public func respond(to request: Request) async throws -> Response {
        // As Vapor's own routes do by default: the export gets the whole
        // body, at most the routes' limit, and need not stream it.
        if request.body.data == nil {
            let limit = request.application.routes.defaultMaxBodySize.value
            _ = try await request.eventLoop.flatSubmit { request.body.collect(max: limit) }.get()
        }
        return try await call(request)
    }
}

extension RoutesBuilder {
    /// Hands every request under `path` (the path itself and anything below
    /// it, with any of the usual methods) to `responder`:
    ///
    ///     app.forward("api", to: node.responder("api", "route"))
    ///
    /// Routes registered elsewhere that are more specific still win: Vapor's
    /// router prefers a constant component to the catch-all.
    @discardableResult
    public func forward(_ path: PathComponent..., to responder: HotResponder) -> [Route] {
        let methods: [HTTPMethod] = [.GET, .POST, .PUT, .PATCH, .DELETE, .OPTIONS]
        var routes: [Route] = []
        for method in methods {
            for components in [path, path + [.catchall]] {
                let route = Route(method: method, path: components, responder: responder, requestType: Request.self, responseType: Response.self)
                add(route)
                routes.append(route)
            }
        }
        return routes
    }
}

/// Runs a call through a typed handle: a debug build answers a handle's own
/// failure with a 500 whose reason names it (`HandleFailure.answering`); a
/// release build throws it on, and Vapor's `ErrorMiddleware` answers it as
/// any error (with no reason in the production environment).
@inline(__always)
private func answering(_ call: () async throws -> Response) async throws -> Response {
    try await HandleFailure.answering(call) { reason in Abort(.internalServerError, reason: reason) }
}
#endif
