import Vapor

/// GET /notes lists the notes, POST /notes adds one.
struct NoteController: RouteCollection {
    let store: NoteStore

    func boot(routes: any RoutesBuilder) throws {
        let notes = routes.grouped("notes")
        notes.get(use: index)
        notes.post(use: create)
    }

    @Sendable
    func index(req: Request) async throws -> [Note] {
        await store.all()
    }

    @Sendable
    func create(req: Request) async throws -> Note {
        let note = try req.content.decode(Note.self)
        guard !note.text.isEmpty else { throw Abort(.badRequest, reason: "a note needs text") }
        return await store.add(note.text)
    }
}
