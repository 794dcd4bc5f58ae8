#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

// The few file operations the tool and the node share, over swift-system's
// FileDescriptor where it has the call and libc where it does not (opendir,
// realpath, symlink). Foundation's FileManager would cost more at start-up
// than all of these together.

/// The whole content of a file, or nil (errno tells why).
public func readFile(_ path: String) -> [UInt8]? {
    guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) else { return nil }
    defer { try? fd.close() }
    return readAll(fd.rawValue)
}

/// Everything left to read on a descriptor, or nil (errno tells why).
public func readAll(_ fd: Int32) -> [UInt8]? {
    let descriptor = FileDescriptor(rawValue: fd)
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        guard let n = try? chunk.withUnsafeMutableBytes({ try descriptor.read(into: $0) }) else { return nil }
        if n == 0 { return result }
        result.append(contentsOf: chunk[0..<n])
    }
}

/// Writes a file so that a reader sees the old content or the new, never a
/// part: a temporary file beside it, fsync, rename. `durable: false` skips
/// the fsync, for a file that must outlive this process but not the machine
/// (the kernel keeps what a dead process wrote).
public func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true) throws(SystemError) {
    let temporary = "\(path).\(getpid()).tmp"
    let fd: FileDescriptor
    do {
        fd = try FileDescriptor.open(
            FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec],
            permissions: FilePermissions(rawValue: mode))
    } catch {
        throw SystemError("open \(temporary)", errno: error as? Errno ?? .ioError)
    }
    var ok = false
    defer {
        try? fd.close()
        if !ok { unlink(temporary) }
    }
    guard writeAll(fd.rawValue, bytes) else { throw SystemError("write \(temporary)") }
    guard !durable || fsync(fd.rawValue) == 0 else { throw SystemError("fsync \(temporary)") }
    guard rename(temporary, path) == 0 else { throw SystemError("rename \(temporary) to \(path)") }
    ok = true
}

/// `mkdir -p`.
public func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, mode) != 0 && errno != EEXIST { throw SystemError("mkdir \(current)") }
    }
}

/// The names in a folder, without `.` and `..`; empty if it cannot be read.
public func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// The entries of a folder with whether each is a folder, from the type
/// readdir reports (a stat only where the file system does not say), so
/// that walking a large tree costs one getdents per folder, not a stat per file.
public func listEntries(_ path: String) -> [(name: String, isDirectory: Bool)] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var entries: [(name: String, isDirectory: Bool)] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        guard name != "." && name != ".." else { continue }
        let type = entry.pointee.d_type
        let folder = type == UInt8(DT_DIR) || ((type == UInt8(DT_UNKNOWN) || type == UInt8(DT_LNK)) && isDirectory(path + "/" + name))
        entries.append((name, folder))
    }
    return entries
}

/// Whether a path exists (following symbolic links).
public func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Whether a path is a directory.
public func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// The canonical absolute path (`realpath(3)`), or nil.
public func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// The current working directory.
public func currentDirectory() -> String {
    guard let cwd = getcwd(nil, 0) else { return "." }
    defer { free(cwd) }
    return String(cString: cwd)
}

/// `path` made absolute against the current directory.
public func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : currentDirectory() + "/" + path
}

/// Removes a file or a whole folder tree; missing paths are fine.
public func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        for name in listDirectory(path) { removeTree("\(path)/\(name)") }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The parent folder of a path.
public func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// Creates or replaces a symbolic link atomically (a temporary link renamed over).
public func replaceSymlink(_ path: String, target: String) throws(SystemError) {
    let temporary = "\(path).\(getpid()).tmp"
    unlink(temporary)
    guard symlink(target, temporary) == 0 else { throw SystemError("symlink \(temporary)") }
    guard rename(temporary, path) == 0 else {
        unlink(temporary)
        throw SystemError("rename \(temporary)")
    }
}

/// Writes every byte to a descriptor, retrying short writes and EINTR;
/// false on an error (errno tells which).
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    (try? FileDescriptor(rawValue: fd).writeAll(bytes)) != nil
}

/// The last component of a path (`/a/b.so` → `b.so`).
public func lastPathComponent(_ path: String) -> String {
    // By bytes: a split by Character (grapheme breaking) took about 30,000
    // instructions of each load, three calls a load.
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
    return String(path[path.utf8.index(after: slash)...])
}
