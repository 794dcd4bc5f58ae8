import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TodoStore

@testable import App

/// The routes the hot module answers, in the test process: its built-in
/// version, through the same handles as the app.
@Suite(.serialized)
struct HotRoutesTests {
    @Test func hotCreateThenCount() async throws {
        let app = try await buildApplication(TestArguments())
        try await app.test(.router) { client in
            let before = try await client.execute(uri: "/hot/todos/count", method: .get) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(Count.self, from: response.body).count
            }
            let created = try await client.execute(uri: "/hot/todos", method: .post, body: ByteBuffer(string: #"{"title":"from a test"}"#)) { response in
                #expect(response.status == .created)
                #expect(response.headers[.init("x-release")!] != nil)
                return try JSONDecoder().decode(Todo.self, from: response.body)
            }
            #expect(created.title == "from a test")
            let after = try await client.execute(uri: "/hot/todos/count", method: .get) { response in
                try JSONDecoder().decode(Count.self, from: response.body).count
            }
            #expect(after >= before + 1)
            try await client.execute(uri: "/todos/\(created.id)", method: .delete) { response in
                #expect(response.status == .ok)
            }
        }
    }

    struct Count: Decodable { let count: Int }
}
