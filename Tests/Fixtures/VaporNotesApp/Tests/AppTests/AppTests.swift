@testable import App
import Testing
import VaporTesting

@Suite("App Tests")
struct AppTests {
    @Test("it works")
    func root() async throws {
        try await withApp(configure: configure) { app in
            try await app.testing().test(.GET, "") { response async in
                #expect(response.status == .ok)
                #expect(response.body.string == "It works!")
            }
        }
    }

    @Test("a note written is listed")
    func notes() async throws {
        try await withApp(configure: configure) { app in
            try await app.testing().test(.POST, "notes", beforeRequest: { request in
                try request.content.encode(Note(id: nil, text: "milk"))
            }, afterResponse: { response async throws in
                #expect(response.status == .ok)
                #expect(try response.content.decode(Note.self) == Note(id: 1, text: "milk"))
            })
            try await app.testing().test(.GET, "notes") { response async throws in
                #expect(try response.content.decode([Note].self) == [Note(id: 1, text: "milk")])
            }
            try await app.testing().test(.POST, "notes", beforeRequest: { request in
                try request.content.encode(Note(id: nil, text: ""))
            }, afterResponse: { response async in
                #expect(response.status == .badRequest)
            })
        }
    }
}
