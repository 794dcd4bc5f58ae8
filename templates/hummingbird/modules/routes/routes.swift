import HTTPTypes
import Hot
import Hummingbird
import Shared

// The app's route handlers. Edit one, run `hot deploy`, and the running app
// answers with the new code on the same connection.

/// Bump it with each change to see which code answered.
let release = 1

let module = HotModule(
    exports: [
        .function("hello") { (request: Request, context: AppContext) async throws -> Response in
            let name = context.parameters.get("name") ?? "world"
            return try Greeting(message: "Hello, \(name)!", release: release).response(from: request, context: context)
        },
        // The app's guestbook, handed over by the app on each request.
        .function("sign") { (request: Request, context: AppContext, guestbook: Guestbook) async throws -> Response in
            let name = context.parameters.get("name") ?? "anonymous"
            let count = await guestbook.sign(name)
            return try Greeting(message: "\(name) signed; \(count) names so far", release: release)
                .response(from: request, context: context)
        },
        .function("count") { (request: Request, context: AppContext) async throws -> Response in
            let hits = try Counter.hit()
            return try Greeting(message: "\(hits) hits", release: release).response(from: request, context: context)
        },
        // A slow request finishes in the version it started in, even if a
        // new one is deployed meanwhile.
        .function("slow") { (request: Request, context: AppContext) async throws -> Response in
            let ms = context.parameters.get("ms", as: Int.self) ?? 1000
            try await Task.sleep(for: .milliseconds(ms))
            return try Greeting(message: "slept \(ms) ms", release: release).response(from: request, context: context)
        },
        // Middleware: stamps each answer with the release that stamped it.
        .function("stamp") {
            (request: Request, context: AppContext, next: @escaping @Sendable (Request, AppContext) async throws -> Response)
                async throws -> Response in
            var response = try await next(request, context)
            response.headers[releaseHeader] = "\(release)"
            return response
        },
    ],
    servers: [.server("counter", Counter.self)])

let releaseHeader = HTTPField.Name("x-release")!

/// The hit counter: a server whose state moves to each new version.
struct Counter: Server {
    struct State: Codable {
        var hits: Int
    }

    static func start(_ args: [Term]) throws -> State { State(hits: 0) }

    static func handleCall(_ request: Term, state: inout State) throws -> Term {
        state.hits += 1
        return .int(state.hits)
    }

    /// Counts a hit; the first call starts the server.
    static func hit() throws -> Int {
        if try Process.whereis("counter") == nil {
            do {
                _ = try Servers.start("routes", "counter", name: "counter")
            } catch ProcessError.nameTaken {
                // Another request started it first.
            }
        }
        guard case .int(let hits) = try Servers.call("counter", .string("hit")) else { return 0 }
        return hits
    }
}
