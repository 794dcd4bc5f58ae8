/// The name of a version's object file: `<module>.v<N>-<key12>.so`. Every
/// version has its own name because glibc hands back the same handle for the
/// same path (docs/ARCHITECTURE.md, "Fact: file-per-version").
public struct ArtifactName: Sendable, Equatable {
    /// The module.
    public let module: String
    /// The version number.
    public let version: Int
    /// The first 12 hex digits of the content key.
    public let keyPrefix: String

    /// Parses a file name; nil unless it has exactly this shape, so a name
    /// holding `/` or `..` never reaches the file system.
    public init?(fileName: String) {
        guard fileName.hasSuffix(".so") else { return nil }
        let stem = fileName.dropLast(3)
        guard let dot = stem.lastIndex(of: ".") else { return nil }
        let module = String(stem[..<dot])
        let rest = stem[stem.index(after: dot)...]
        guard rest.first == "v", let dash = rest.firstIndex(of: "-") else { return nil }
        let digits = rest[rest.index(after: rest.startIndex)..<dash]
        // Digits only, no sign, no leading zero: one artifact, one spelling.
        guard digits.first != "0", digits.utf8.allSatisfy({ (48...57).contains($0) }),
            let version = Int(digits), version > 0
        else { return nil }
        let key = String(rest[rest.index(after: dash)...])
        guard HotSDK.isValidModuleName(module), key.utf8.count == 12,
            key.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        self.module = module
        self.version = version
        self.keyPrefix = key
    }

    /// A name from its parts.
    public init(module: String, version: Int, key: String) {
        self.module = module
        self.version = version
        self.keyPrefix = String(key.prefix(12))
    }

    /// The file name.
    public var fileName: String { "\(module).v\(version)-\(keyPrefix).so" }
}
