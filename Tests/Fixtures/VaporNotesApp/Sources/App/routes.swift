import Vapor

func routes(_ app: Application, notes: NoteStore) throws {
    app.get { _ async in
        "It works!"
    }
    try app.register(collection: NoteController(store: notes))
}
