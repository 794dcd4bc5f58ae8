import Vapor

/// One note, as the API reads and writes it.
struct Note: Content, Equatable {
    var id: Int?
    var text: String
}

/// The notes written so far, numbered from 1. The app keeps one for as long
/// as it runs.
actor NoteStore {
    private var notes: [Note] = []

    func add(_ text: String) -> Note {
        let note = Note(id: notes.count + 1, text: text)
        notes.append(note)
        return note
    }

    func all() -> [Note] { notes }
}
