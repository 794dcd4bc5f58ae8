import HTTPTypes
import Hot
import Hummingbird
import TodoStore

// The todo handlers, moved from the app into its hot module: `hot deploy`
// changes them while the app serves. The app hands each version its
// repository, which owns the database client, on every request.

/// Bump it with each change to see which code answered.
let release = 1

let releaseHeader = HTTPField.Name("x-release")!

let module = HotModule(
    exports: [
        .function("hello") { (request: Request, context: BasicRequestContext) async throws -> Response in
            "Hello from release \(release)!\n".response(from: request, context: context)
        },
        .function("create") { (request: Request, context: BasicRequestContext, todos: TodoRepository) async throws -> Response in
            let new = try await request.decode(as: NewTodo.self, context: context)
            var response = try await todos.create(title: new.title).response(from: request, context: context)
            response.status = .created
            response.headers[releaseHeader] = "\(release)"
            return response
        },
        .function("count") { (request: Request, context: BasicRequestContext, todos: TodoRepository) async throws -> Response in
            var response = try TodoCount(count: try await todos.count(), release: release).response(from: request, context: context)
            response.headers[releaseHeader] = "\(release)"
            return response
        },
    ])

struct TodoCount: ResponseEncodable {
    let count: Int
    let release: Int
}
