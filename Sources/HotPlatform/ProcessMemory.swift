#if canImport(Glibc)
import Glibc
#endif

/// What a process holds in memory, as /proc tells: its resident bytes
/// (VmRSS) and the number of its mappings (lines of /proc/PID/maps, each
/// one a `vm_area_struct` counted against `vm.max_map_count`).
public struct ProcessMemory: Sendable, Equatable {
    public var resident: Int
    public var mappings: Int

    /// This process's figures; zero for any that /proc does not give.
    public static func current() -> ProcessMemory { of(path: "/proc/self") }

    /// Another process's figures, or nil when it is gone.
    public static func of(pid: Int32) -> ProcessMemory? {
        let path = "/proc/\(pid)"
        guard fileExists(path) else { return nil }
        return of(path: path)
    }

    private static func of(path: String) -> ProcessMemory {
        var resident = 0
        if let status = readFile(path + "/status") {
            for line in status.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("VmRSS:".utf8)) {
                let digits = line.filter { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                resident = (Int(String(decoding: digits, as: UTF8.self)) ?? 0) * 1024
            }
        }
        let maps = readFile(path + "/maps") ?? []
        let mappings = maps.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        return ProcessMemory(resident: resident, mappings: mappings)
    }
}
