#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject
import HotWire
import Synchronization

/// A build the node died loading: its entry, on-load hook or initializers
/// killed the node itself after its trial load had passed. The same record
/// is kept in `refused.json` and shown by `status`.
public typealias DeathInLoad = StatusReply.Refused

extension DeathInLoad {
    /// `2026-11-30 09:41:27Z`.
    public var date: String { utcTime(diedAt) }
}

/// What a node remembers of the loads it died in, in its state folder.
///
/// No process boundary stops a module's code once it runs in the node, so a
/// version that passes its trial and then kills the node at commit is dealt
/// with by recovery: before the node runs a new object's code it writes
/// `loading.json` naming it, and removes it when the load returns,
/// whatever the outcome. A marker found at boot therefore names the load the
/// node died in; that build goes into `refused.json` and every later load of
/// it is refused until a forced one, so a supervisor's restart does not walk
/// into the same crash (Erlang's heart restarts a node; this keeps the
/// restarted node from repeating its death).
final class LoadJournal: Sendable {
    /// `loading.json`: the load in progress.
    let markerPath: String
    /// `refused.json`: the builds the node died loading.
    let refusedPath: String
    private let refused: Locked<[DeathInLoad]>

    /// The journal in `stateFolder`.
    init(stateFolder: String) {
        let folder = StateFolder(stateFolder)
        markerPath = folder.loadingPath
        refusedPath = folder.refusedPath
        refused = Locked(Self.read(folder.refusedPath))
    }

    /// The builds refused because the node died loading them, oldest first.
    var deaths: [DeathInLoad] { refused.withLock { $0 } }

    /// The recorded death in `module` v`version` with `key`, if any.
    func death(_ module: String, version: Int, key: String) -> DeathInLoad? {
        refused.withLock { $0.first { $0.names(module, version: version, key: key) } }
    }

    /// Writes the marker before the node runs the object's code; a failure
    /// to write it refuses the load, since a crash would then go unremembered.
    /// Not fsynced: it guards against the node's death, not the machine's,
    /// and the kernel keeps what a dead process wrote. An fsync here cost
    /// every swap about a millisecond (make bench, figure 2: p50 0.29 to
    /// 1.22 ms).
    func begin(_ module: String, version: Int, key: String, file: String) throws(SystemError) {
        let marker = DeathInLoad(module: module, version: version, key: key, file: file, diedAt: 0)
        try writeFileAtomically(markerPath, Self.render(marker), durable: false)
    }

    /// Removes the marker: the load returned.
    func end() { unlink(markerPath) }

    /// Forgets a recorded death (a forced load tries the build again).
    func forgive(_ module: String, version: Int, key: String) throws(SystemError) {
        try update { $0.removeAll { $0.names(module, version: version, key: key) } }
    }

    /// At boot: a marker left behind means the node died in that load.
    /// Records the build as refused, removes the marker, and returns it.
    func recover() throws(SystemError) -> DeathInLoad? {
        guard let bytes = readFile(markerPath) else { return nil }
        defer { end() }
        guard let term = try? JSON.parse(bytes), let marker = try? TermDecoder().decode(DeathInLoad.self, from: term) else {
            return nil
        }
        let death = DeathInLoad(
            module: marker.module, version: marker.version, key: marker.key, file: marker.file, diedAt: now())
        try update { deaths in
            deaths.removeAll { $0.names(death.module, version: death.version, key: death.key) }
            deaths.append(death)
        }
        return death
    }

    private func update(_ change: (inout [DeathInLoad]) -> Void) throws(SystemError) {
        let result: Result<Void, SystemError> = refused.withLock { deaths in
            var changed = deaths
            change(&changed)
            guard changed != deaths else { return .success(()) }
            do throws(SystemError) {
                try writeFileAtomically(refusedPath, Self.render(changed))
            } catch {
                return .failure(error)
            }
            deaths = changed
            return .success(())
        }
        try result.get()
    }

    private static func read(_ path: String) -> [DeathInLoad] {
        guard let bytes = readFile(path), let term = try? JSON.parse(bytes) else { return [] }
        return (try? TermDecoder().decode([DeathInLoad].self, from: term)) ?? []
    }

    private static func render<T: Encodable>(_ value: T) -> [UInt8] {
        // The journal's documents are strings and numbers, each of which has a term.
        guard let term = try? TermEncoder().encode(value) else { preconditionFailure("a load journal entry did not encode") }
        return Array((JSON.render(term, pretty: true) + "\n").utf8)
    }
}
