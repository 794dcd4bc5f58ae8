import Hot
import HotPlatform

/// What a module's content key hashes: the git ids of its files and of the
/// include folders' files as they stand in the work tree, the swiftc flags,
/// the compiler, the SDK and, for a project with a host, the host build's
/// fingerprint. A module is rebuilt iff its key is new.
public struct ContentKey: Sendable, Equatable {
    /// 64 hex digits.
    public let hex: String

    /// The key of a module from the blob ids of its files (path → id).
    public init(files: [(path: String, id: String)], includes: [(path: String, id: String)], flags: [String],
                compiler: String, sdk: String = HotSDK.fingerprint, abi: Int = HotSDK.abiVersion, host: String? = nil) {
        var text = "hot-key 1\nabi \(abi)\nsdk \(sdk)\ncompiler \(compiler)\n"
        // Absent without a host, so the keys of hostless projects stay as they were.
        if let host { text += "host \(host)\n" }
        // Flags are joined by a byte no flag holds, so ["-D", "A B"] and ["-D A", "B"] differ.
        text += "flags \(flags.joined(separator: "\u{1F}"))\n"
        for f in files { text += "file \(f.path) \(f.id)\n" }
        for f in includes { text += "include \(f.path) \(f.id)\n" }
        hex = SHA256Hasher.hex(of: Array(text.utf8))
    }
}
