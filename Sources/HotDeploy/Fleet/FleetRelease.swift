import Crypto
import Hot
import HotPlatform
import HotProject

/// Where a fleet keeps its state in etcd, all under `/hot/fleets/NAME/`
/// (docs/FLEETS.md, "Layout"):
///
/// - `artifacts/SHA256/NNNNNN`: an object file, content-addressed, in chunks
///   within etcd's value limit;
/// - `releases/ID`: a signed release (`SignedRelease`);
/// - `control/committed`: the id of the release every node runs;
/// - `control/rollout`: the rollout under way, if any (`FleetRollout`);
/// - `nodes/NAME`: each live node's report (`FleetNodeReport`), under its lease.
public struct FleetKeys: Sendable {
    public let fleet: String
    public let root: String

    public init(fleet: String) {
        self.fleet = fleet
        root = "/hot/fleets/\(fleet)/"
    }

    /// Whether `name` can name a fleet: letters, digits, `-`, `_` and `.` (`FleetSettings.isValidName`).
    public static func isValidName(_ name: String) -> Bool { FleetSettings.isValidName(name) }

    public var control: String { root + "control/" }
    public var committed: String { control + "committed" }
    public var rollout: String { control + "rollout" }
    public var nodes: String { root + "nodes/" }
    public func node(_ name: String) -> String { nodes + name }
    public func release(_ id: String) -> String { root + "releases/" + id }
    public func artifact(_ sha256: String) -> String { root + "artifacts/" + sha256 + "/" }

    /// A chunk's key: its index zero-padded, so that key order is chunk order.
    public func chunk(_ sha256: String, _ index: Int) -> String {
        let digits = String(index)
        return artifact(sha256) + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

/// What a fleet deploys: per module, the version, its content key, and the
/// object file's digest, size and name. Nodes fetch the artifacts by digest.
public struct FleetRelease: Codable, Sendable, Equatable {
    public struct Artifact: Codable, Sendable, Equatable {
        public let module: String
        public let version: Int
        public let key: String
        /// The object file's name, as the node stages it.
        public let file: String
        public let sha256: String
        public let size: Int

        public init(module: String, version: Int, key: String, file: String, sha256: String, size: Int) {
            self.module = module
            self.version = version
            self.key = key
            self.file = file
            self.sha256 = sha256
            self.size = size
        }
    }

    /// The release's name: a digest of its modules' keys, so that the same
    /// build published twice is one release.
    public let id: String
    public let artifacts: [Artifact]
    /// Bytes per chunk of every artifact.
    public let chunkSize: Int
    /// When it was published (UTC).
    public let published: String

    public init(artifacts: [Artifact], chunkSize: Int, published: String) {
        let sorted = artifacts.sorted { $0.module < $1.module }
        var hasher = SHA256Hasher()
        for artifact in sorted { hasher.update(Array("\(artifact.module) \(artifact.key) \(artifact.sha256)\n".utf8)) }
        id = String(hasher.hexDigest().prefix(16))
        self.artifacts = sorted
        self.chunkSize = chunkSize
        self.published = published
    }

    /// A summary for people: `hello v2, world v5`.
    public var summary: String { artifacts.map { "\($0.module) v\($0.version)" }.joined(separator: ", ") }
}

/// A release as etcd holds it: its JSON text and an HMAC-SHA256 of that
/// text, keyed by `FleetSigner`. The text is signed as bytes, so no
/// canonical form is needed: what a node verifies is what it then decodes.
public struct SignedRelease: Codable, Sendable {
    public let release: String
    public let signature: String
}

/// Why a fleet's record could not be used.
public enum FleetRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The signature does not match: not published with this fleet's cookie, or altered since.
    case badSignature(release: String)
    /// An artifact's bytes are not the ones the release names.
    case badArtifact(module: String, reason: String)
    /// A record that does not decode.
    case malformed(key: String, reason: String)

    public var description: String {
        switch self {
        case .badSignature(let release):
            "release \(release) is not signed with this fleet's cookie (or was altered since): refused"
        case .badArtifact(let module, let reason): "artifact of \(module) refused: \(reason)"
        case .malformed(let key, let reason): "malformed fleet record \(key): \(reason)"
        }
    }
}

/// Signs and verifies a fleet's releases with a key derived from the
/// fleet's cookie (HKDF-SHA256, the fleet's name in its info): everyone who
/// may deploy to the nodes or control them holds that cookie already, so it
/// adds no secret to distribute, and a writer of etcd who lacks it cannot
/// make a node load code. (docs/FLEETS.md, "Trust", says why not etcd's
/// own auth alone.)
public struct FleetSigner: Sendable {
    /// The derived key's bytes (Crypto's `SymmetricKey` is not `Sendable`).
    private let keyBytes: [UInt8]

    public init(cookie: [UInt8], fleet: String) {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: cookie), salt: Array("hot fleet release".utf8),
            info: Array("fleet \(fleet)".utf8), outputByteCount: 32)
        keyBytes = derived.withUnsafeBytes { Array($0) }
    }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The release, encoded and signed.
    public func sign(_ release: FleetRelease) throws(FleetRecordError) -> [UInt8] {
        let text = try encode(release, key: release.id)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        return Array(try encode(SignedRelease(release: text, signature: Hex.encode(mac)), key: release.id).utf8)
    }

    /// The release a signed record holds, once its signature is checked;
    /// `id` is the key it was found under, which the release must carry.
    public func verify(_ bytes: [UInt8], id: String) throws(FleetRecordError) -> FleetRelease {
        let signed: SignedRelease = try decodeRecord(bytes, key: id)
        guard let mac = Hex.decode(signed.signature),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(signed.release.utf8), using: key)
        else { throw .badSignature(release: id) }
        let release: FleetRelease = try decodeRecord(Array(signed.release.utf8), key: id)
        guard release.id == id else { throw .badSignature(release: id) }
        return release
    }
}

/// A fleet record as JSON text.
func encode<T: Encodable>(_ value: T, key: String) throws(FleetRecordError) -> String {
    do { return JSON.render(try TermEncoder().encode(value)) } catch { throw .malformed(key: key, reason: "\(error)") }
}

/// A fleet record from JSON bytes.
func decodeRecord<T: Decodable>(_ bytes: [UInt8], key: String) throws(FleetRecordError) -> T {
    do { return try JSON.parse(bytes).decode(as: T.self) } catch { throw .malformed(key: key, reason: "\(error)") }
}
