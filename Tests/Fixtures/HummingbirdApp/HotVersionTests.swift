import App
import HotLifecycle
import Hummingbird
import HummingbirdTesting
import Testing

// Written into the template app by Hot's end-to-end test, after `hot build`:
// a test that loads the version hot build made into the test process.
extension AppTests {
    @Test func hotVersion() async throws {
        let hot = try HotNodeService.project()
        let loaded = try hot.host.loadForTesting(".hot/build/routes/current")
        #expect(loaded.map(\.module) == ["routes"], "\(loaded)")
        #expect(loaded.first?.from == 0 && (loaded.first?.to ?? 0) > 0, "over the built-in version: \(loaded)")
        let app = try await buildApplication(port: 0, hot: hot)
        try await app.test(.router) { client in
            try await client.execute(uri: "/hello/bob", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("bob"))
            }
        }
    }
}
