internal import CLibGit2
import HotPlatform
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A git object id: the 20-byte SHA-1 of a commit, tree, blob or tag.
public struct ObjectID: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Three integers instead of an array: no heap allocation, and Hashable
    // and Comparable come cheaply. Packed big-endian so that integer order is
    // byte order.
    private let high: UInt64
    private let middle: UInt64
    private let low: UInt32

    /// The id from its 20 raw bytes; nil unless there are exactly 20.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        func pack(_ range: Range<Int>) -> UInt64 {
            range.reduce(0) { ($0 << 8) | UInt64(bytes[$1]) }
        }
        high = pack(0..<8)
        middle = pack(8..<16)
        low = UInt32(pack(16..<20))
    }

    /// Parses 40 hexadecimal digits, either case; nil for anything else.
    public init?(hex: String) {
        guard hex.utf8.count == 40, let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The 20 raw bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: middle >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt32(shift))) }
        return out
    }

    /// The 40-character lowercase hex form git prints.
    public var description: String { Hex.encode(bytes) }

    /// The 7-character abbreviation, for messages meant for people.
    public var short: String { String(description.prefix(7)) }

    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        (a.high, a.middle, a.low) < (b.high, b.middle, b.low)
    }

    init(_ oid: git_oid) {
        var oid = oid
        let bytes = withUnsafeBytes(of: &oid.id) { Array($0) }
        self.init(bytes: bytes)!
    }

    init(_ oid: UnsafePointer<git_oid>) {
        self.init(oid.pointee)
    }

    /// The libgit2 form, for passing back into C.
    var oid: git_oid {
        var oid = git_oid()
        let bytes = self.bytes
        withUnsafeMutableBytes(of: &oid.id) { raw in
            for i in 0..<20 { raw[i] = bytes[i] }
        }
        return oid
    }
}

extension Repository {
    /// The blob id git would give `bytes` (what `git hash-object --stdin` prints).
    public static func hashBlob(_ bytes: [UInt8]) -> ObjectID {
        _ = LibGit2.ready
        var oid = git_oid()
        let code = bytes.withUnsafeBytes { raw in
            git_odb_hash(&oid, raw.baseAddress, raw.count, GIT_OBJECT_BLOB)
        }
        // git_odb_hash can only fail on an invalid object type, which ours is not.
        precondition(code == 0, "git_odb_hash failed for a blob")
        return ObjectID(oid)
    }

    /// The blob id of the file at `path` as it stands on disk, with no
    /// filters applied (no CRLF conversion), so it equals the id in a tree
    /// when the repository uses no filters. A symlink hashes as git stores it:
    /// the link's target text, not the file it points to.
    public static func hashFile(at path: String) throws(GitError) -> ObjectID {
        _ = LibGit2.ready
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(path, &buffer, buffer.count - 1)
            if length >= 0 {
                return hashBlob(buffer[0..<length].map { UInt8(bitPattern: $0) })
            }
        }
        var oid = git_oid()
        try check("git_odb_hashfile", git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB))
        return ObjectID(oid)
    }
}
