import HotNode
import HotVapor
import Shared
import Vapor

/// Configures the app: a Hot node beside Vapor, and routes that reach the
/// current version of a handler in modules/routes. The server
/// (Sources/Server) runs it.
///
/// `hot` is the node; by default the project's (`HotNodeLifecycle.project()`):
/// its socket, cookie and state live in .hot/ of this project, as with
/// `hot start`, so `hot deploy` and `hot status` reach it. It starts as the
/// app boots, before it serves, and `hot stop` stops the app.
public func configure(_ app: Application, port: Int = 8080, hot: HotNodeLifecycle? = nil) throws {
    let hot = try hot ?? HotNodeLifecycle.project()
    app.lifecycle.use(hot)
    app.http.server.configuration.hostname = "127.0.0.1"
    app.http.server.configuration.port = port
    // JSON with its keys in order, so that an answer reads the same each time.
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    ContentConfiguration.global.use(encoder: encoder, for: .json)
    let node = hot.node

    // An object the app owns: each version of the routes module gets this one.
    let guestbook = Guestbook()

    // Each route below, and the middleware, reach the current version of a
    // function of the routes module.
    let routes = app.grouped(node.middleware("routes", "stamp"))
    routes.get("hello", ":name", use: node.handler("routes", "hello"))
    routes.post("sign", ":name", use: node.handler("routes", "sign", with: guestbook))
    routes.get("count", use: node.handler("routes", "count"))
    routes.get("slow", ":ms", use: node.handler("routes", "slow"))
    // Everything under /api goes to one export, which routes it itself.
    routes.forward("api", to: node.responder("routes", "api"))
    app.get("health") { _ in "ok" }
    // Served by the app's own code, which `hot watch` patches while it runs:
    // edit hostGreeting() in HostGreeting.swift. (This closure is stored once,
    // at start-up; what it calls is what changes.)
    app.get("host") { _ in hostGreeting() }
}
