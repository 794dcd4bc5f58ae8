import Vapor

/// Sets the app up: where it listens, and its routes.
public func configure(_ app: Application) async throws {
    app.http.server.configuration.hostname = "127.0.0.1"
    if let port = Environment.get("PORT").flatMap(Int.init) {
        app.http.server.configuration.port = port
    }
    try routes(app, notes: NoteStore())
}
