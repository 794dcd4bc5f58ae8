import Hummingbird
import TodoStore

/// The todo list's routes, under /todos.
struct TodoController {
    let repository: TodoRepository

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group
            .get(use: list)
            .get(":id", use: get)
            .post(use: create)
            .patch(":id", use: update)
            .delete(":id", use: delete)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> [Todo] {
        try await repository.list()
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Todo? {
        let id = try context.parameters.require("id", as: Int.self)
        return try await repository.get(id: id)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<Todo> {
        let new = try await request.decode(as: NewTodo.self, context: context)
        return EditedResponse(status: .created, response: try await repository.create(title: new.title))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Todo? {
        let id = try context.parameters.require("id", as: Int.self)
        let change = try await request.decode(as: TodoChange.self, context: context)
        return try await repository.update(id: id, title: change.title, completed: change.completed)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let id = try context.parameters.require("id", as: Int.self)
        return try await repository.delete(id: id) ? .ok : .notFound
    }
}
