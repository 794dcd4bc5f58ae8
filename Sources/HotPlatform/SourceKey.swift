/// The key of a module's sources as they lie on disk: a hash of each file's
/// name (relative to the module's folder) and contents, in name order. A
/// built-in version carries it, so that `hot` can tell whether the sources
/// a host was built with are the ones on disk (docs/ARCHITECTURE.md,
/// "Built-in versions").
public enum SourceKey {
    /// The key of `files` (absolute paths under `folder`); nil when one cannot be read.
    public static func of(folder: String, files: [String]) -> String? {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        var named: [(String, String)] = []
        for file in files {
            named.append((file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : lastPathComponent(file), file))
        }
        var hasher = SHA256Hasher()
        hasher.update(Array("hot-module-sources\n".utf8))
        for (name, path) in named.sorted(by: { $0.0 < $1.0 }) {
            guard let bytes = readFile(path) else { return nil }
            hasher.update(Array("\(name)\n\(bytes.count)\n".utf8))
            hasher.update(bytes)
        }
        return hasher.hexDigest()
    }
}
