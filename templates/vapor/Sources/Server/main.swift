import App
import HotNode
import Vapor

// A new version of a module is first loaded in a child run of this
// executable (its trial load), which must do that and nothing else: before
// Vapor reads the command line.
TrialLoad.runIfRequested()

var environment = try Environment.detect()
try LoggingSystem.bootstrap(from: &environment)
let app = try await Application.make(environment)
do {
    try configure(app, port: Int(Environment.get("PORT") ?? "") ?? 8080)
    // Boots the node, serves, and returns on SIGTERM, SIGINT or `hot stop`.
    try await app.execute()
} catch {
    app.logger.report(error: error)
    try? await app.asyncShutdown()
    throw error
}
try await app.asyncShutdown()
