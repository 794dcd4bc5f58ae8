import Hot
import HotPlatform

/// One built version, as `.hot/manifest.json` records it.
public struct BuiltVersion: Codable, Sendable, Equatable {
    /// The module.
    public var module: String
    /// Its version number.
    public var version: Int
    /// The content key.
    public var key: String
    /// The object's file name in `.hot/build/<module>/`.
    public var file: String
    /// The object's sha256.
    public var sha256: String
    /// The commit HEAD was at, or nil before the first commit.
    public var commit: String?
    /// Whether the module's sources differed from that commit.
    public var dirty: Bool
    /// The compiler version.
    public var compiler: String
    /// When it was built, seconds since the epoch.
    public var time: Double
    /// Whether it was built with optimisation.
    public var release: Bool
    /// The git blob id of each module file it was built from (project-relative path → id).
    public var files: [String: String]?
    /// The same for the include folders' files.
    public var includes: [String: String]?
}

/// The record of every version built in a project.
public struct Manifest: Codable, Sendable, Equatable {
    /// Every version, oldest first.
    public var versions: [BuiltVersion] = []
    /// The version each module's present sources built (what `current` links name).
    public var current: [String: Int] = [:]

    /// An empty manifest.
    public init() {}

    enum CodingKeys: String, CodingKey { case versions, current }

    /// Reads a manifest; `current` may be missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        versions = try c.decode([BuiltVersion].self, forKey: .versions)
        current = try c.decodeIfPresent([String: Int].self, forKey: .current) ?? [:]
    }

    /// Reads the manifest; a missing file is an empty manifest.
    public static func load(_ path: String) throws(ProjectError) -> Manifest {
        guard let bytes = readFile(path) else { return Manifest() }
        do {
            return try TermDecoder().decode(Manifest.self, from: JSON.parse(bytes))
        } catch {
            throw .badConfig(path: path, reason: "\(error) (delete it to start the version count afresh)")
        }
    }

    /// Writes the manifest atomically.
    public func save(_ path: String) throws(SystemError) {
        let term = (try? TermEncoder().encode(self)) ?? .null
        try writeFileAtomically(path, Array((JSON.render(term, pretty: true) + "\n").utf8))
    }

    /// The newest version of `module`.
    public func newest(_ module: String) -> BuiltVersion? {
        versions.filter { $0.module == module }.max { $0.version < $1.version }
    }

    /// The version of `module` built from `key`, if any.
    public func version(_ module: String, key: String) -> BuiltVersion? {
        versions.last { $0.module == module && $0.key == key }
    }

    /// The version the module's last build settled on.
    public func currentVersion(_ module: String) -> BuiltVersion? {
        guard let n = current[module] else { return newest(module) }
        return versions.last { $0.module == module && $0.version == n }
    }

    /// The next version number for `module`.
    public func nextVersion(_ module: String) -> Int { (newest(module)?.version ?? 0) + 1 }
}
