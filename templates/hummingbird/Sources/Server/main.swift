import App
import HotNode
import Hummingbird

// A new version of a module is first loaded in a child run of this
// executable (its trial load), which must do that and nothing else.
TrialLoad.runIfRequested()

let port = Int(Environment().get("PORT") ?? "") ?? 8080
try await buildApplication(port: port).runService()
