import Logging
import PostgresNIO

/// The list, kept in PostgreSQL's `todos` table.
public struct TodoRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Makes the table when it is not there.
    public func migrate() async throws {
        try await client.query(
            """
            CREATE TABLE IF NOT EXISTS todos (
                id BIGSERIAL PRIMARY KEY,
                title TEXT NOT NULL,
                completed BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            logger: logger)
    }

    public func create(title: String) async throws -> Todo {
        let rows = try await client.query(
            "INSERT INTO todos (title) VALUES (\(title)) RETURNING id, title, completed", logger: logger)
        guard let todo = try await first(rows) else { throw TodoStoreError.nothingReturned }
        return todo
    }

    public func get(id: Int) async throws -> Todo? {
        try await first(client.query("SELECT id, title, completed FROM todos WHERE id = \(id)", logger: logger))
    }

    public func list() async throws -> [Todo] {
        var todos: [Todo] = []
        let rows = try await client.query("SELECT id, title, completed FROM todos ORDER BY id", logger: logger)
        for try await (id, title, completed) in rows.decode((Int, String, Bool).self) {
            todos.append(Todo(id: id, title: title, completed: completed))
        }
        return todos
    }

    public func count() async throws -> Int {
        for try await count in try await client.query("SELECT count(*) FROM todos", logger: logger).decode(Int.self) {
            return count
        }
        return 0
    }

    public func update(id: Int, title: String?, completed: Bool?) async throws -> Todo? {
        try await first(
            client.query(
                """
                UPDATE todos SET title = COALESCE(\(title), title), completed = COALESCE(\(completed), completed)
                WHERE id = \(id) RETURNING id, title, completed
                """,
                logger: logger))
    }

    public func delete(id: Int) async throws -> Bool {
        try await first(client.query("DELETE FROM todos WHERE id = \(id) RETURNING id, title, completed", logger: logger)) != nil
    }

    private func first(_ rows: PostgresRowSequence) async throws -> Todo? {
        for try await (id, title, completed) in rows.decode((Int, String, Bool).self) {
            return Todo(id: id, title: title, completed: completed)
        }
        return nil
    }
}

public enum TodoStoreError: Error {
    case nothingReturned
}
