import Hummingbird
import Logging
import PostgresNIO
import TodoStore

/// The command line's settings, which the tests give too.
public protocol AppArguments {
    var hostname: String { get }
    var port: Int { get }
    var logLevel: Logger.Level? { get }
}

typealias AppRequestContext = BasicRequestContext

/// The todo list's server: its PostgreSQL client runs as one of the
/// application's services, and the table is made before the server listens.
public func buildApplication(_ arguments: some AppArguments) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "todos")
    logger.logLevel = arguments.logLevel ?? .info
    let postgres = PostgresClient(configuration: try databaseConfiguration(Environment()), backgroundLogger: logger)
    let repository = TodoRepository(client: postgres, logger: logger)
    let router = buildRouter(repository)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(arguments.hostname, port: arguments.port), serverName: "todos"),
        services: [postgres],
        logger: logger
    )
    app.beforeServerStarts {
        try await repository.migrate()
    }
    return app
}

func buildRouter(_ repository: TodoRepository) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.get("/health") { _, _ -> HTTPResponse.Status in .ok }
    TodoController(repository: repository).addRoutes(to: router.group("todos"))
    return router
}

/// Where the database is: POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER,
/// POSTGRES_PASSWORD and POSTGRES_DB, each with a default for a local server.
func databaseConfiguration(_ environment: Environment) throws -> PostgresClient.Configuration {
    let portText = environment.get("POSTGRES_PORT") ?? "5432"
    guard let port = Int(portText) else { throw ConfigurationError(message: "POSTGRES_PORT is not a number: \(portText)") }
    return PostgresClient.Configuration(
        host: environment.get("POSTGRES_HOST") ?? "127.0.0.1",
        port: port,
        username: environment.get("POSTGRES_USER") ?? "todos",
        password: environment.get("POSTGRES_PASSWORD"),
        database: environment.get("POSTGRES_DB") ?? "todos",
        tls: .disable
    )
}

struct ConfigurationError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
