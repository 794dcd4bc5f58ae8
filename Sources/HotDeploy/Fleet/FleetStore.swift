import Hot
import HotPlatform

/// The rollout under way in a fleet (`control/rollout`): which release goes
/// out, what the fleet ran before, which nodes take part and which of them
/// are told to run it. Only a coordinator writes it, each write a
/// compare-and-swap on the revision it read, so two coordinators never
/// both move one rollout on.
public struct FleetRollout: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable {
        /// Every node of `nodes` stages `release`; nothing runs it yet.
        case staging
        /// The nodes of `committed` run `release`; batch by batch more join.
        case committing
        /// Every node goes back to `previous`; then the rollout ends.
        case rollingBack = "rolling back"
    }

    public var release: String
    /// This rollout's own name, random: a node's refusal names the rollout
    /// it refused, so that a later rollout of the same release is tried afresh.
    public var attempt: String
    /// The release committed before; nil for a fleet's first.
    public var previous: String?
    public var nodes: [String]
    public var committed: [String]
    public var phase: Phase
    /// The strategy, as `hot deploy` was given it (`all`, `rolling:2`, `canary:1:5`).
    public var strategy: String
    /// Why the rollout is rolling back, once it is.
    public var reason: String?
}

/// What a node reports under its lease (`nodes/NAME`).
public struct FleetNodeReport: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Runs `release` (nil: no release of the fleet yet).
        case running
        /// Staged `staged`, trial-loaded; waits for the commit.
        case staged
        /// Could not stage, load or check `failedRelease`; `reason` says why.
        case failed
    }

    public var node: String
    /// The release whose every module the node runs.
    public var release: String?
    /// The release staged and trial-loaded, not yet running.
    public var staged: String?
    public var state: State
    public var failedRelease: String?
    /// The rollout (`FleetRollout.attempt`) whose release failed here; nil for the committed release.
    public var failedAttempt: String?
    public var reason: String?
    /// "ok", or why a module's `health` export said otherwise.
    public var health: String
    /// Each module's current version.
    public var versions: [String: Int]
    /// Whether what it runs is what it boots after a restart.
    public var permanent: Bool

    public init(node: String) {
        self.node = node
        state = .running
        health = "ok"
        versions = [:]
        permanent = false
    }
}

/// A fleet's records in etcd, read and written: artifacts, releases, the
/// control keys and the node reports.
public struct FleetStore: Sendable {
    public let etcd: EtcdClient
    public let keys: FleetKeys
    public let signer: FleetSigner
    /// Bytes per artifact chunk: well under etcd's default 1.5 MiB request
    /// limit once the gateway's base64 has grown it by a third.
    public static let chunkSize = 512 << 10

    public init(etcd: EtcdClient, fleet: String, cookie: [UInt8]) {
        self.etcd = etcd
        keys = FleetKeys(fleet: fleet)
        signer = FleetSigner(cookie: cookie, fleet: fleet)
    }

    // MARK: Artifacts and releases

    /// Stores an object file under its digest, unless it is there already.
    public func putArtifact(_ bytes: [UInt8]) throws(EtcdError) -> String {
        let sha256 = SHA256Hasher.hex(of: bytes)
        let chunks = max(1, (bytes.count + Self.chunkSize - 1) / Self.chunkSize)
        guard try etcd.count(prefix: keys.artifact(sha256)) != chunks else { return sha256 }
        for index in 0..<chunks {
            let start = index * Self.chunkSize
            try etcd.put(keys.chunk(sha256, index), Array(bytes[start..<min(bytes.count, start + Self.chunkSize)]))
        }
        return sha256
    }

    /// An artifact's bytes, checked against the release's size and sha256.
    public func artifact(_ artifact: FleetRelease.Artifact) throws(FleetFailure) -> [UInt8] {
        let chunks: [EtcdClient.KeyValue]
        do { chunks = try etcd.list(prefix: keys.artifact(artifact.sha256)).values } catch { throw .etcd(error) }
        var bytes: [UInt8] = []
        for chunk in chunks {
            bytes += chunk.value
            guard bytes.count <= artifact.size else { break }
        }
        guard bytes.count == artifact.size else {
            throw .record(.badArtifact(module: artifact.module, reason: "\(bytes.count) bytes in etcd, the release says \(artifact.size)"))
        }
        let digest = SHA256Hasher.hex(of: bytes)
        guard digest == artifact.sha256 else {
            throw .record(.badArtifact(module: artifact.module, reason: "sha256 \(digest.prefix(12)) is not the release's \(artifact.sha256.prefix(12))"))
        }
        return bytes
    }

    /// Signs and stores a release.
    public func putRelease(_ release: FleetRelease) throws(FleetFailure) {
        let signed: [UInt8]
        do { signed = try signer.sign(release) } catch { throw .record(error) }
        do { try etcd.put(keys.release(release.id), signed) } catch { throw .etcd(error) }
    }

    /// A release, its signature checked.
    public func release(_ id: String) throws(FleetFailure) -> FleetRelease {
        let found: EtcdClient.KeyValue?
        do { found = try etcd.get(keys.release(id)).value } catch { throw .etcd(error) }
        guard let found else { throw .record(.malformed(key: keys.release(id), reason: "no such release")) }
        do { return try signer.verify(found.value, id: id) } catch { throw .record(error) }
    }

    // MARK: Control

    /// The fleet's control keys as one read: the committed release, the
    /// rollout and the revision it was last written at (0: none).
    public struct Control: Sendable {
        public var committed: String?
        public var rollout: FleetRollout?
        public var rolloutRevision: Int
        public var committedRevision: Int
        /// The store's revision when read: a watch from the next one misses nothing.
        public var revision: Int
    }

    public func control() throws(FleetFailure) -> Control {
        let found: (values: [EtcdClient.KeyValue], revision: Int)
        do { found = try etcd.list(prefix: keys.control) } catch { throw .etcd(error) }
        var control = Control(committed: nil, rollout: nil, rolloutRevision: 0, committedRevision: 0, revision: found.revision)
        for kv in found.values {
            if kv.key == keys.committed {
                control.committed = String(decoding: kv.value, as: UTF8.self)
                control.committedRevision = kv.modRevision
            } else if kv.key == keys.rollout {
                do { control.rollout = try decodeRecord(kv.value, key: kv.key) } catch { throw .record(error) }
                control.rolloutRevision = kv.modRevision
            }
        }
        return control
    }

    /// Writes `rollout` if the rollout key is still at `revision` (0: absent); whether it was.
    public func swapRollout(_ rollout: FleetRollout, ifAt revision: Int) throws(FleetFailure) -> Bool {
        let text: String
        do { text = try encode(rollout, key: keys.rollout) } catch { throw .record(error) }
        do {
            return try etcd.transaction(if: [.modRevision(keys.rollout, equals: revision)], then: [.put(keys.rollout, Array(text.utf8))])
        } catch { throw .etcd(error) }
    }

    /// Ends the rollout at `revision`, committing `release` (nil: leaves the committed release as it is).
    public func endRollout(ifAt revision: Int, committing release: String?) throws(FleetFailure) -> Bool {
        var changes: [EtcdClient.Change] = [.delete(keys.rollout)]
        if let release { changes.append(.put(keys.committed, Array(release.utf8))) }
        do { return try etcd.transaction(if: [.modRevision(keys.rollout, equals: revision)], then: changes) } catch { throw .etcd(error) }
    }

    // MARK: Nodes

    /// Every live node's report, by name.
    public func nodes() throws(FleetFailure) -> [String: FleetNodeReport] {
        let found: [EtcdClient.KeyValue]
        do { found = try etcd.list(prefix: keys.nodes).values } catch { throw .etcd(error) }
        var reports: [String: FleetNodeReport] = [:]
        for kv in found {
            // A report that does not decode is another build's: it is left out, not fatal.
            if let report: FleetNodeReport = try? decodeRecord(kv.value, key: kv.key) { reports[report.node] = report }
        }
        return reports
    }

    /// Writes a node's report under its lease.
    public func report(_ report: FleetNodeReport, lease: Int) throws(FleetFailure) {
        let text: String
        do { text = try encode(report, key: keys.node(report.node)) } catch { throw .record(error) }
        do { try etcd.put(keys.node(report.node), Array(text.utf8), lease: lease) } catch { throw .etcd(error) }
    }
}

/// Why a fleet operation did not succeed.
public enum FleetFailure: Error, Sendable, CustomStringConvertible {
    case etcd(EtcdError)
    case record(FleetRecordError)
    /// The node refused or could not do what the fleet asked.
    case node(ClientError)
    /// Anything else, said in a sentence.
    case other(String)

    /// Whether trying again later may succeed: etcd or the node out of
    /// reach, as opposed to a release refused for what it is.
    public var isTransient: Bool {
        switch self {
        case .etcd: true
        case .node(let error):
            if case .protocolError = error { true } else { error.isUnreachable }
        case .record, .other: false
        }
    }

    public var description: String {
        switch self {
        case .etcd(let error): error.description
        case .record(let error): error.description
        case .node(let error): error.description
        case .other(let text): text
        }
    }
}
