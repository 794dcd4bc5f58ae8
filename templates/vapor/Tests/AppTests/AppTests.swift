import App
import Testing
import Vapor
import VaporTesting

// The app's routes, tested in-process: the node of a test bundle listens
// nowhere and serves the routes module built into it, so these run while
// the app itself serves from this project. The node starts as the test
// boots the application, as it does in the server.
@Suite(.serialized)
struct AppTests {
    @Test func hello() async throws {
        try await withApp(configure: { try configure($0) }) { app in
            try await app.testing().test(.GET, "hello/bob") { response in
                #expect(response.status == .ok)
                #expect(response.body.string.contains("Hello, bob!"))
                // The middleware, hot too, stamps the release that answered.
                #expect(response.headers.first(name: "x-release") != nil)
            }
        }
    }

    @Test func sign() async throws {
        try await withApp(configure: { try configure($0) }) { app in
            try await app.testing().test(.POST, "sign/ann") { response in
                #expect(response.body.string.contains("ann signed; 1 names so far"))
            }
            try await app.testing().test(.POST, "sign/bob") { response in
                #expect(response.body.string.contains("bob signed; 2 names so far"))
            }
        }
    }

    @Test func api() async throws {
        try await withApp(configure: { try configure($0) }) { app in
            try await app.testing().test(.GET, "api/version") { response in
                #expect(response.status == .ok)
            }
            try await app.testing().test(.GET, "api/nothing") { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
