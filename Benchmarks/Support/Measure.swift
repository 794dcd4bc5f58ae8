#if canImport(Glibc)
import Glibc
#endif
import HotPlatform

/// Three significant decimals, without Foundation.
public func format3(_ x: Double) -> String {
    guard x.isFinite else { return "n/a" }
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
}

/// This process's resident and mapped bytes, and its mappings.
public enum Memory {
    /// VmRSS and VmSize of /proc/self/status, in bytes.
    public static func read() -> (resident: Int, mapped: Int) {
        let status = String(decoding: readFile("/proc/self/status") ?? [], as: UTF8.self)
        var resident = 0
        var mapped = 0
        for line in status.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("VmRSS:"), fields.count >= 2 { resident = (Int(fields[1]) ?? 0) * 1024 }
            if line.hasPrefix("VmSize:"), fields.count >= 2 { mapped = (Int(fields[1]) ?? 0) * 1024 }
        }
        return (resident, mapped)
    }

    /// The number of lines in /proc/self/maps: one per mapping, each
    /// counted against `vm.max_map_count`.
    public static func mappings() -> Int {
        (readFile("/proc/self/maps") ?? []).reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }

    /// Bytes as KiB, for a table.
    public static func kib(_ bytes: Int) -> String { "\(bytes / 1024) KiB" }
}

/// Appends `text` to the file at `path`, creating it; false on failure.
public func appendFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return writeAll(fd, Array(text.utf8))
}
