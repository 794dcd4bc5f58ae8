import HotHummingbird
import HotLifecycle
import HotNode
import Hummingbird
import Shared

/// The app: a Hot node beside Hummingbird, and a router whose routes reach
/// the current version of a handler in modules/routes. The server
/// (Sources/Server) runs it; the tests (Tests/AppTests) test it in-process.
///
/// `hot` is the node; by default the project's (`HotNodeService.project()`):
/// in the server its socket, cookie and state live in .hot/ of this project,
/// as with `hot start`, so `hot deploy` and `hot status` reach it; in a test
/// bundle it is an in-process node, which listens nowhere.
public func buildApplication(port: Int = 8080, hot: HotNodeService? = nil) async throws -> some ApplicationProtocol {
    let hot = try hot ?? HotNodeService.project()
    // Booted before the server listens, so the first request finds the routes
    // module; the service's run() then finds the node started.
    _ = try await hot.host.start()
    let node = hot.node

    // An object the app owns: each version of the routes module gets this one.
    let guestbook = Guestbook()

    let router = Router(context: AppContext.self)
    // Each route below, and the middleware, reach the current version of a
    // function of the routes module.
    let routes = router.group().add(middleware: node.middleware("routes", "stamp"))
    routes.get("/hello/:name", use: node.handler("routes", "hello"))
    routes.post("/sign/:name", use: node.handler("routes", "sign", with: guestbook))
    routes.get("/count", use: node.handler("routes", "count"))
    routes.get("/slow/:ms", use: node.handler("routes", "slow"))
    router.get("/health") { _, _ in "ok" }
    // Served by the app's own code, which `hot watch` patches while it runs:
    // edit hostGreeting() in HostGreeting.swift. (This closure is stored once,
    // at start-up; what it calls is what changes.)
    router.get("/host") { _, _ in hostGreeting() }

    return Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: port)),
        services: [hot])
}
