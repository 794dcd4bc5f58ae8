#if canImport(Glibc)
import Glibc
#endif
import HotPlatform

/// The shared secret a client and a node prove to each other.
public enum Cookie {
    /// Why a cookie could not be had.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file does not exist or cannot be read.
        case unreadable(path: String, reason: String)
        /// Someone besides the owner may read or write it (Erlang refuses this too).
        case notOwnerOnly(path: String, mode: UInt32)
        /// The file holds nothing usable.
        case empty(path: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read cookie file \(path): \(reason)"
            case .notOwnerOnly(let path, let mode):
                "cookie file \(path) must be accessible by owner only (mode is \(String(mode & 0o777, radix: 8))); run: chmod 600 \(path)"
            case .empty(let path): "cookie file \(path) is empty; delete it and run `hot start` to make a new one"
            }
        }
    }

    /// Reads a cookie file, refusing one that group or others may access.
    public static func read(path: String) throws(Failure) -> [UInt8] {
        // Mode and content from one open descriptor: the file cannot be
        // swapped between the check and the read.
        let file: Descriptor
        do { file = try Descriptor("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) } } catch {
            throw .unreadable(path: path, reason: error.errno.description)
        }
        let fd = file.number
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & 0o077 == 0 else { throw .notOwnerOnly(path: path, mode: info.st_mode) }
        guard let bytes = readAll(fd) else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        // A trailing newline from an editor is not part of the secret.
        var cookie = bytes
        while let last = cookie.last, last == 0x0A || last == 0x0D || last == 0x20 { cookie.removeLast() }
        guard !cookie.isEmpty else { throw .empty(path: path) }
        return cookie
    }

    /// The file at `path`, made now (owner-only), or nil when it exists.
    private static func createdFile(_ path: String) throws(Failure) -> Descriptor? {
        do {
            return try Descriptor("open \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        } catch {
            if error.errno == .fileExists { return nil }
            throw .unreadable(path: path, reason: error.errno.description)
        }
    }

    /// Writes a fresh random cookie (owner-only) unless the file exists; returns it.
    public static func create(path: String) throws(Failure) -> [UInt8] {
        let hex = Hex.encode(randomBytes(32))
        // O_EXCL with mode 0600 from the start: the secret is never readable by others, not even briefly.
        guard let file = try createdFile(path) else { return try read(path: path) }
        let fd = file.number
        let bytes = Array((hex + "\n").utf8)
        let written = bytes.withUnsafeBytes { buffer in
            (try? SystemError.retrying("write \(path)") { write(fd, buffer.baseAddress, buffer.count) }) ?? -1
        }
        guard written == bytes.count else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        return Array(hex.utf8)
    }
}

