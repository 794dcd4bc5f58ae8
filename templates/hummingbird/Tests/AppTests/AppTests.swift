import App
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

// The app's routes, tested in-process: the node of a test bundle listens
// nowhere and serves the routes module built into it, so these run while
// the app itself serves from this project.
@Suite(.serialized)
struct AppTests {
    @Test func hello() async throws {
        let app = try await buildApplication(port: 0)
        try await app.test(.router) { client in
            try await client.execute(uri: "/hello/bob", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Hello, bob!"))
                // The middleware, hot too, stamps the release that answered.
                #expect(response.headers[HTTPField.Name("x-release")!] != nil)
            }
        }
    }

    @Test func sign() async throws {
        let app = try await buildApplication(port: 0)
        try await app.test(.router) { client in
            try await client.execute(uri: "/sign/ann", method: .post) { response in
                #expect(String(buffer: response.body).contains("ann signed; 1 names so far"))
            }
            try await client.execute(uri: "/sign/bob", method: .post) { response in
                #expect(String(buffer: response.body).contains("bob signed; 2 names so far"))
            }
        }
    }

    @Test func count() async throws {
        let app = try await buildApplication(port: 0)
        try await app.test(.router) { client in
            for hits in 1...3 {
                try await client.execute(uri: "/count", method: .get) { response in
                    #expect(String(buffer: response.body).contains("\(hits) hits"))
                }
            }
        }
    }
}
