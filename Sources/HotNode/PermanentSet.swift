import Hot
import HotPlatform
import HotProject

/// The versions a node boots after a restart (release_handler's permanent
/// release), kept in its state folder as `permanent.json`: module → object
/// path. Written atomically, so a crash leaves the old set or the new one.
struct PermanentSet: Sendable {
    let path: String

    init(stateFolder: String) { path = StateFolder(stateFolder).permanentPath }

    /// The set, or nil when the node never recorded one.
    func read() -> [String: String]? {
        guard let bytes = readFile(path), let term = try? JSON.parse(bytes), case .map(let fields) = term else { return nil }
        return fields.compactMapValues(\.stringValue)
    }

    /// Records the set.
    func write(_ set: [String: String]) throws(SystemError) {
        let term = Term.map(set.mapValues { .string($0) })
        try writeFileAtomically(path, Array((JSON.render(term, pretty: true) + "\n").utf8))
    }
}
