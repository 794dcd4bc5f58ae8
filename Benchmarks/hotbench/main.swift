#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Hot
import HotNode
import HotPlatform
import Synchronization

// Figures 2 and 6 of BENCHMARKS.md, in one process: swap latency with two
// threads calling without pause, and the memory a retained version costs.
// Prints Markdown. Usage: HOT_BIN=<release build folder> hotbench [SWAPS]

let swaps = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200
/// Distinct versions loaded for the memory figure, before any thread runs.
let memoryVersions = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 100 : 100
let memoryReloads = 1000

func fail(_ message: String) -> Never {
    _ = writeAll(2, Array("hotbench: \(message)\n".utf8))
    exit(1)
}

do {
    let fixture = try Fixture()
    // One distinct version per swap: a load of an object already mapped
    // would measure nothing but a table update.
    var paths: [String] = []
    let total = memoryVersions + 1 + swaps
    for n in 1...total {
        try fixture.write(module: "spin", """
            import Hot
            let module = HotModule(exports: [.function("version", version)])
            func version(_ probe: Int) -> Int { \(n) }
            """)
        paths.append(try fixture.build("spin", release: false))
    }
    let objectBytes = paths.map { path -> Int in
        var info = stat()
        stat(path, &info)
        return Int(info.st_size)
    }.reduce(0, +) / paths.count

    let server = fixture.node.codeServer

    // Memory first, with no other thread running: each distinct version
    // stays mapped for the node's life; loading a mapped object again must
    // cost nothing more.
    let memoryBefore = Memory.read()
    _ = try server.load([paths[0]])
    let memoryAfterOne = Memory.read()
    for n in 1...memoryVersions { _ = try server.load([paths[n]]) }
    let memoryAfterDistinct = Memory.read()
    var loads = memoryVersions + 1
    var index = 0
    while loads < memoryReloads {
        _ = try server.load([paths[index % (memoryVersions + 1)]])
        index += 1
        loads += 1
    }
    let memoryAfterAll = Memory.read()

    let version = server.exports.function("spin", "version", ((Int) throws -> Int).self)

    // Two callers without pause; each records its call latencies and failures.
    final class Callers: Sendable {
        let running = Atomic<Bool>(true)
        let failures = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let latencies = Mutex<[[Double]]>([])
    }
    let callers = Callers()
    func startCallers() -> Callers {
        callers.finished.store(0, ordering: .relaxed)
        for _ in 0..<2 {
            try! startThread {
                var samples: [Double] = []
                samples.reserveCapacity(1 << 20)
                while callers.running.load(ordering: .relaxed) {
                    let t0 = monotonicSeconds()
                    do { _ = try version(0) } catch { callers.failures.add(1, ordering: .relaxed) }
                    samples.append(monotonicSeconds() - t0)
                }
                callers.latencies.withLock { $0.append(samples) }
                callers.finished.add(1, ordering: .releasing)
            }
        }
        return callers
    }
    func stopCallers(_ callers: Callers) -> [Double] {
        callers.running.store(false, ordering: .relaxed)
        while callers.finished.load(ordering: .acquiring) < 2 { usleep(1000) }
        let all = callers.latencies.withLock { lists in lists.flatMap { $0 } }.sorted()
        callers.latencies.withLock { $0.removeAll() }
        callers.running.store(true, ordering: .relaxed)
        return all
    }

    // Baseline: the same callers, no swaps, for about as long as the swaps take.
    var finished = startCallers()
    usleep(UInt32(min(10.0, Double(swaps) * 0.003) * 1e6))
    let quiet = stopCallers(finished)

    finished = startCallers()
    var swapTimes: [Double] = []
    for n in (memoryVersions + 2)...total {
        let t0 = monotonicSeconds()
        _ = try server.load([paths[n - 1]])
        // The swap ends when a call is served by the new version.
        while try version(0) != n {}
        swapTimes.append(monotonicSeconds() - t0)
        usleep(1000)
    }
    let busy = stopCallers(finished)
    swapTimes.sort()

    let ms = { (s: Double) in String(format3(s * 1000)) }
    let perVersion = (
        resident: Double(memoryAfterDistinct.resident - memoryAfterOne.resident) / Double(memoryVersions),
        mapped: Double(memoryAfterDistinct.mapped - memoryAfterOne.mapped) / Double(memoryVersions))
    // The figures the targets table of BENCHMARKS.md is made from (scripts/bench.sh).
    if let summary = getenv("HOTBENCH_SUMMARY").map({ String(cString: $0) }) {
        let lines = [
            "swap_p50_ms \(ms(quantile(swapTimes, 0.5)))",
            "swap_p99_ms \(ms(quantile(swapTimes, 0.99)))",
            "swap_failed \(callers.failures.load(ordering: .relaxed))",
            "swap_calls \(busy.count)",
            "swap_p99_ratio \(format3(quantile(busy, 0.99) / quantile(quiet, 0.99)))",
            "memory_mapped_ratio \(format3(perVersion.mapped / Double(objectBytes)))",
            "memory_resident_ratio \(format3(perVersion.resident / Double(objectBytes)))",
        ]
        guard appendFile(summary, lines.joined(separator: "\n") + "\n") else { fail("cannot write \(summary)") }
    }
    let us = { (s: Double) in String(format3(s * 1e6)) }
    print("""
        ## Swap

        `hotbench \(swaps)` (Benchmarks/hotbench): \(swaps) swaps of a one-function module, each a
        version not loaded before, into a node in the same process; two threads call the module
        through the export table without pause. A swap is timed from the commit (the load
        request, objects already staged and trial-loaded) to the first call served by the new
        version.

        | what | value | target |
        | --- | --- | --- |
        | swap p50 | \(ms(quantile(swapTimes, 0.5))) ms | at most 0.3 ms |
        | swap p99 | \(ms(quantile(swapTimes, 0.99))) ms | at most 1 ms |
        | failed calls during swaps | \(callers.failures.load(ordering: .relaxed)) of \(busy.count) | 0 |
        | call p99 while swapping | \(us(quantile(busy, 0.99))) µs | |
        | call p99 without swaps | \(us(quantile(quiet, 0.99))) µs | |
        | ratio of the p99s | \(format3(quantile(busy, 0.99) / quantile(quiet, 0.99))) | |

        ## Memory

        The same process, before the swaps and with no other thread: its resident set and
        mapped bytes (VmRSS, VmSize) after 1, \(memoryVersions + 1) and \(memoryReloads) loads of one module.
        Loads 2 to \(memoryVersions + 1) are distinct versions, each compiled; the loads after them load those
        objects again. Every version stays mapped: a Swift image must never be unloaded
        (docs/ARCHITECTURE.md, "Fact: never-close").

        | after | resident | mapped |
        | --- | --- | --- |
        | 0 loads | \(Memory.kib(memoryBefore.resident)) | \(Memory.kib(memoryBefore.mapped)) |
        | 1 load | \(Memory.kib(memoryAfterOne.resident)) | \(Memory.kib(memoryAfterOne.mapped)) |
        | \(memoryVersions + 1) loads | \(Memory.kib(memoryAfterDistinct.resident)) | \(Memory.kib(memoryAfterDistinct.mapped)) |
        | \(memoryReloads) loads | \(Memory.kib(memoryAfterAll.resident)) | \(Memory.kib(memoryAfterAll.mapped)) |

        | per retained version | bytes | against the object (\(objectBytes) bytes) |
        | --- | --- | --- |
        | resident | \(Int(perVersion.resident)) | \(format3(perVersion.resident / Double(objectBytes))) |
        | mapped | \(Int(perVersion.mapped)) | \(format3(perVersion.mapped / Double(objectBytes))) |
        """)
} catch {
    fail("\(error)")
}
