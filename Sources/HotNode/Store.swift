#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import HotProject
import HotWire

/// The node's state folder: staged uploads (`staged/`).
public struct Store: Sendable {
    /// The folder itself.
    public let root: String
    /// The paths inside it.
    public var folder: StateFolder { StateFolder(root) }
    /// The largest object a client may upload.
    public static let maxUpload = 256 << 20

    /// A store rooted at `root`, created if missing.
    public init(root: String) throws(SystemError) {
        self.root = root
        try makeDirectories(folder.stagedDirectory)
    }

    /// Where a staged file lives.
    public func stagedPath(_ file: ArtifactName) -> String { folder.stagedPath(file.fileName) }

    /// Receives an upload of `size` bytes from `next` into `staged/` through a
    /// temporary file: verified by sha256, fsynced and linked into place (never over
    /// another's bytes), or removed.
    /// Nothing of a failed upload stays behind.
    func receive(
        _ file: ArtifactName, size: Int, sha256: String, next: () throws(WireError) -> [UInt8]
    ) throws(UploadError) -> String {
        let final = stagedPath(file)
        // One file per version (docs/ARCHITECTURE.md, "Fact: file-per-version"):
        // a load of a name already loaded reuses that version, so new bytes
        // under a staged or loaded name would be silently ignored, or load
        // where the node believed it had the old ones. The same bytes again are fine.
        if let existing = readFile(final) {
            let digest = SHA256Hasher.hex(of: existing)
            guard digest == sha256 else { throw .nameTaken(file: file.fileName, staged: digest, announced: sha256) }
        }
        let temporary = folder.stagedPath(".\(file.fileName).\(getpid()).\(randomSuffix()).tmp")
        let output = try createdFile(temporary)
        // The temporary name goes whatever happens: a staged file is its link under the final name.
        defer { unlink(temporary) }
        var hasher = SHA256Hasher()
        var received = 0
        while received < size {
            let chunk: [UInt8]
            do { chunk = try next() } catch { throw .wire(error) }
            guard received + chunk.count <= size else { throw .sizeMismatch(expected: size, got: received + chunk.count) }
            hasher.update(chunk)
            guard writeAll(output.number, chunk) else { throw .system(SystemError("write \(temporary)")) }
            received += chunk.count
        }
        let digest = hasher.hexDigest()
        guard digest == sha256 else { throw .hashMismatch(expected: sha256, got: digest) }
        do { _ = try SystemError.retrying("fsync \(temporary)") { fsync(output.number) } } catch { throw .system(error) }
        // Into place without replacing: another connection may have staged
        // the name since the check above (two uploads of one name at once),
        // and a rename would swap its bytes for these under it. link() fails
        // instead, and the bytes there decide: the same are fine, others refused.
        guard link(temporary, final) == 0 else {
            let failure = SystemError("link \(temporary)")
            guard failure.errno == .fileExists else { throw .system(failure) }
            let staged = readFile(final).map { SHA256Hasher.hex(of: $0) } ?? "unreadable"
            guard staged == sha256 else { throw .nameTaken(file: file.fileName, staged: staged, announced: sha256) }
            return final
        }
        return final
    }
}

/// A file made now at `path` (`O_EXCL`), open to write.
private func createdFile(_ path: String) throws(UploadError) -> Descriptor {
    do {
        return try Descriptor("open \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    } catch { throw .system(error) }
}

/// Why an upload was refused.
enum UploadError: Error, CustomStringConvertible {
    case sizeMismatch(expected: Int, got: Int)
    case hashMismatch(expected: String, got: String)
    case nameTaken(file: String, staged: String, announced: String)
    case wire(WireError)
    case system(SystemError)

    var description: String {
        switch self {
        case .sizeMismatch(let expected, let got): "upload announced \(expected) bytes but sent \(got)"
        case .hashMismatch(let expected, let got): "upload sha256 is \(got), announced \(expected)"
        case .nameTaken(let file, let staged, let announced):
            "\(file) is already staged with sha256 \(staged); this upload's is \(announced) (a new build needs a new version name)"
        case .wire(let error): "upload interrupted: \(error)"
        case .system(let error): "upload could not be stored: \(error)"
        }
    }
}

private func randomSuffix() -> String { Hex.encode(randomBytes(6)) }

