import HotHummingbird
import Hummingbird
import Shared

// A new version of a module is first loaded in a child run of this
// executable (its trial load), which must do that and nothing else.
HotNodeService.runTrialIfRequested()

// The node: its socket, cookie and state live in .hot/ of this project, as
// with `hot start`, so `hot deploy` and `hot status` reach it.
let hot = try HotNodeService()

let router = Router(context: AppContext.self)
router.get("/hello/:name", use: hot.handler("routes", "hello"))
router.get("/count", use: hot.handler("routes", "count"))
router.get("/slow/:ms", use: hot.handler("routes", "slow"))
router.get("/health") { _, _ in "ok" }

let port = Int(Environment().get("PORT") ?? "") ?? 8080
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    services: [hot])
try await app.runService()
