#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Hot
import HotNode
import HotPlatform

/// What a node does at `vm.max_map_count`: the process's free mappings are
/// used up by filler pages (the count is system-wide and not this
/// process's to raise), leaving `spare`, and versions are loaded until a
/// load fails. Then the node must still serve its current version, and load
/// again once mappings are free.
enum Ceiling {
    static let spare = 60

    static func reach(server: CodeServer, versions: Versions, from start: Int, bump: () throws -> Void) throws {
        let limit = Int(String(decoding: readFile("/proc/sys/vm/max_map_count") ?? [], as: UTF8.self)
            .filter { $0.isNumber }) ?? 65_530
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let before = Memory.mappings()
        // Every other page readable: each page is a mapping of its own.
        let pages = max(0, (limit - before - spare) * 2)
        guard let filler = mmap(nil, pages * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
            filler != MAP_FAILED
        else { throw FixtureError("mmap of the filler failed") }
        var index = 0
        while index < pages && Memory.mappings() < limit - spare {
            // Checked in steps: counting the maps costs more than a page.
            // A page made readable in the middle of the region adds two.
            for _ in 0..<min(1000, max(1, (limit - spare - Memory.mappings()) / 2)) where index < pages {
                mprotect(filler + index * page, page, PROT_READ)
                index += 2
            }
        }
        let filled = Memory.mappings()
        let built = try versions.build(start...(start + spare), jobs: 2)
        say("built \(built.built) versions for the ceiling in \(format3(built.seconds)) s")
        let version = server.exports.function("curve", "version", ((Int) throws -> Int).self)
        var n = start
        var failure = ""
        var mappingsAtFailure = 0
        while n <= start + spare {
            do {
                _ = try server.load([versions.path(n)])
                n += 1
                try bump()
            } catch {
                failure = "\(error)"
                mappingsAtFailure = Memory.mappings()
                break
            }
        }
        let current = try? version(0)
        let served = current == n - 1 ? "yes, v\(n - 1)" : "no (\(current.map(String.init) ?? "error"))"
        munmap(filler, pages * page)
        var again = "not tried"
        if !failure.isEmpty {
            do {
                _ = try server.load([versions.path(n)])
                again = (try? version(0)) == n ? "yes, v\(n) loaded and serves" : "loaded, but not served"
            } catch { again = "no: \(error)" }
        }
        print("""

            ## Past the map ceiling

            `vm.max_map_count` is \(limit). With \(before) mappings after the curve, filler pages took
            the process to \(filled); then loads \(start)... until one failed.

            | what | result |
            | --- | --- |
            | loads that succeeded near the ceiling | \(n - start) |
            | mappings when a load failed | \(failure.isEmpty ? "none failed" : "\(mappingsAtFailure)") |
            | the load's error (what the node replies) | \(failure.isEmpty ? "none" : "`" + failure.replacing("|", with: "\\|").replacing("\n", with: " ") + "`") |
            | the current version still serves | \(served) |
            | after the filler is unmapped, the next load | \(again) |
            """)
    }
}
