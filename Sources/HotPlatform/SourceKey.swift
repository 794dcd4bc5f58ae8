/// The key of a module's sources as they lie on disk, as the HotModuleEntry
/// plugin computes it for a built-in version: the SHA-256 of `sha256sum`'s
/// listing (`DIGEST  NAME`, a line each) of the module's files, named
/// relative to its folder, in name order. A built-in version carries it, so
/// that `hot` can tell whether the sources a host was built with are the
/// ones on disk (docs/ARCHITECTURE.md, "Built-in versions").
public enum SourceKey {
    /// The key of `files` (absolute paths under `folder`); nil when one cannot be read.
    public static func of(folder: String, files: [String]) -> String? {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        var named: [(String, String)] = []
        for file in files {
            named.append((file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : lastPathComponent(file), file))
        }
        var listing = ""
        for (name, path) in named.sorted(by: { $0.0 < $1.0 }) {
            guard let bytes = readFile(path) else { return nil }
            listing += "\(SHA256Hasher.hex(of: bytes))  \(name)\n"
        }
        return SHA256Hasher.hex(of: Array(listing.utf8))
    }
}
