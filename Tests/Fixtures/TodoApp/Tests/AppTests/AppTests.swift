import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TodoStore

@testable import App

struct TestArguments: AppArguments {
    let hostname = "127.0.0.1"
    let port = 0
    let logLevel: Logger.Level? = .warning
}

/// Against the database the environment names (POSTGRES_PORT and the rest).
@Suite(.serialized)
struct AppTests {
    @Test func health() async throws {
        let app = try await buildApplication(TestArguments())
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func createThenGet() async throws {
        let app = try await buildApplication(TestArguments())
        try await app.test(.router) { client in
            let created = try await client.execute(uri: "/todos", method: .post, body: ByteBuffer(string: #"{"title":"buy milk"}"#)) { response in
                #expect(response.status == .created)
                return try JSONDecoder().decode(Todo.self, from: response.body)
            }
            #expect(created.title == "buy milk" && !created.completed)
            try await client.execute(uri: "/todos/\(created.id)", method: .patch, body: ByteBuffer(string: #"{"completed":true}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/todos/\(created.id)", method: .get) { response in
                let todo = try JSONDecoder().decode(Todo.self, from: response.body)
                #expect(todo == Todo(id: created.id, title: "buy milk", completed: true))
            }
            try await client.execute(uri: "/todos/\(created.id)", method: .delete) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/todos/\(created.id)", method: .get) { response in
                #expect(response.status == .noContent)
            }
        }
    }
}
