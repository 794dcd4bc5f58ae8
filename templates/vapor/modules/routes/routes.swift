import Hot
import Shared
import Vapor

// The app's route handlers. Edit one, run `hot deploy`, and the running app
// answers with the new code on the same connection.

/// Bump it with each change to see which code answered.
let release = 1

let module = HotModule(
    exports: [
        .function("hello") { (request: Request) async throws -> Response in
            let name = request.parameters.get("name") ?? "world"
            return try await Greeting(message: "Hello, \(name)!", release: release).encodeResponse(for: request)
        },
        // The app's guestbook, handed over by the app on each request.
        .function("sign") { (request: Request, guestbook: Guestbook) async throws -> Response in
            let name = request.parameters.get("name") ?? "anonymous"
            let count = await guestbook.sign(name)
            return try await Greeting(message: "\(name) signed; \(count) names so far", release: release)
                .encodeResponse(for: request)
        },
        .function("count") { (request: Request) async throws -> Response in
            let hits = try Counter.hit()
            return try await Greeting(message: "\(hits) hits", release: release).encodeResponse(for: request)
        },
        // A slow request finishes in the version it started in, even if a
        // new one is deployed meanwhile.
        .function("slow") { (request: Request) async throws -> Response in
            let ms = request.parameters.get("ms", as: Int.self) ?? 1000
            try await Task.sleep(for: .milliseconds(ms))
            return try await Greeting(message: "slept \(ms) ms", release: release).encodeResponse(for: request)
        },
        // Everything under /api: this one export does its own routing.
        .function("api") { (request: Request) async throws -> Response in
            let path = request.url.path.split(separator: "/").dropFirst().joined(separator: "/")
            switch (request.method, path) {
            case (.GET, ""), (.GET, "version"):
                return try await Greeting(message: "api", release: release).encodeResponse(for: request)
            default:
                throw Abort(.notFound, reason: "no \(request.method) /api/\(path)")
            }
        },
        // Middleware: stamps each answer with the release that stamped it.
        .function("stamp") { (request: Request, next: any AsyncResponder) async throws -> Response in
            let response = try await next.respond(to: request)
            response.headers.replaceOrAdd(name: "x-release", value: "\(release)")
            return response
        },
    ],
    servers: [.server("counter", Counter.self)])

/// The hit counter: a server whose state moves to each new version. (Vapor
/// has a `Server` of its own: the HTTP server.)
struct Counter: Hot.Server {
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
