#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Hot
import HotNode
import HotPlatform

// Figure 12 of BENCHMARKS.md: one node takes thousands of loads of distinct
// versions of one small module, and at checkpoints the costs that could grow
// with the number of images are measured. Prints Markdown.
// Usage: HOT_BIN=<release build folder> hotcurve [CHECKPOINT...]
//   default checkpoints 10 500 2000; scripts/bench/soak.sh passes more.
//        HOT_BIN=... hotcurve --compaction [LOADS]
//   figure 13 instead (Compaction.swift): a real hotnode takes LOADS
//   (default 2000) loads, then compacts; the same figures before and after.
// HOTCURVE_CACHE: where built versions are kept between runs.
// HOTCURVE_BUILD_ONLY=N: build versions 1...N into the cache and exit.
// HOTCURVE_PERF=FILE: perf records this process (call graphs) while the
// figures of the last checkpoint are measured (Benchmarks/NOTES.md, Figure 12).
// HOTCURVE_FILL_MAPS=1: after the last checkpoint, fill the address space
// with mappings up to vm.max_map_count and load until a load fails.

let checkpoints = CommandLine.arguments.dropFirst().compactMap { Int($0) }.sorted()
let marks = checkpoints.isEmpty ? [10, 500, 2000] : checkpoints
/// Swaps timed after each checkpoint: loads c+1 ... c+window.
let window = 30

func fail(_ message: String) -> Never {
    _ = writeAll(2, Array("hotcurve: \(message)\n".utf8))
    exit(1)
}

func say(_ message: String) { _ = writeAll(2, Array("hotcurve: \(message)\n".utf8)) }

/// The cast whose conformance-cache miss is timed: declared here, in the
/// host, with no conformance anywhere, so every cast of a new type to it must
/// scan every conformance record of every image before it can answer no.
protocol Probed {}
/// The fresh types: generic instances built from the bits of a counter,
/// `Fresh` for a 0 and `Other` for a 1 around `Int`, so each count is a type
/// the runtime has not seen, at most a few levels deep.
struct Fresh<T> {}
struct Other<T> {}

nonisolated(unsafe) var freshCount = 1

/// Casts a value of a type never cast before to `any Probed`; seconds taken.
@inline(never) func freshCast() -> Double {
    freshCount += 1
    return timedCast(Int.self, bits: freshCount)
}

/// Wraps `T` in one type per bit of `bits` below the highest, then times
/// the cast of a value of the type made.
@inline(never) func timedCast<T>(_: T.Type, bits: Int) -> Double {
    if bits > 1 {
        return bits & 1 == 0 ? timedCast(Fresh<T>.self, bits: bits >> 1) : timedCast(Other<T>.self, bits: bits >> 1)
    }
    let value: Any = Fresh<T>()
    let t0 = monotonicSeconds()
    let hit = value is any Probed
    let seconds = monotonicSeconds() - t0
    precondition(!hit)
    return seconds
}

/// The same cast of a type already cast: a cache hit, for comparison.
@inline(never) func seenCast() -> Double { timedCast(Int.self, bits: 2) }

/// Nanoseconds per call of `body`, the median of five rounds of `count`.
func nanosPerCall(_ count: Int, _ body: () throws -> Int) rethrows -> Double {
    var rounds: [Double] = []
    var sink = 0
    for _ in 0..<5 {
        let t0 = monotonicSeconds()
        for _ in 0..<count { sink &+= try body() }
        rounds.append((monotonicSeconds() - t0) / Double(count) * 1e9)
    }
    if sink == 42 { say("") }
    return rounds.sorted()[2]
}

struct Checkpoint {
    var loads = 0
    var swapP50 = 0.0
    var swapP99 = 0.0
    var firstCallP50 = 0.0
    var typedNs = 0.0
    var dynamicNs = 0.0
    var missP50 = 0.0
    var hit = 0.0
    var resident = 0
    var mapped = 0
    var mappings = 0
}

do {
    let fixture = try Fixture()
    let cacheRoot = getenv("HOTCURVE_CACHE").map { String(cString: $0) } ?? "/tmp/hotcurve-versions"
    let versions = try Versions(fixture: fixture, cacheRoot: cacheRoot)
    if let only = getenv("HOTCURVE_BUILD_ONLY").flatMap({ Int(String(cString: $0)) }) {
        let built = try versions.build(1...only, jobs: 2)
        say("built \(built.built) versions in \(format3(built.seconds)) s into \(versions.cache)")
        exit(0)
    }
    if CommandLine.arguments.dropFirst().first == "--compaction" {
        // Figure 13: the versions up to the last checkpoint and two windows
        // of swaps past it, into a real hotnode, then a compaction.
        // The fresh node's point takes the first 10 loads and a window.
        let loads = max(marks.last!, 10 + CompactionFigure.window)
        let built = try versions.build(1...(loads + 2 * CompactionFigure.window), jobs: 2)
        say("built \(built.built) versions in \(format3(built.seconds)) s")
        let figure = CompactionFigure(
            versions: versions, hotnode: String(cString: getenv("HOT_BIN")!) + "/hotnode", folder: fixture.root + "/compaction",
            loads: loads)
        let (markdown, summary) = try figure.run()
        if let file = getenv("HOTBENCH_SUMMARY").map({ String(cString: $0) }) {
            guard appendFile(file, summary.joined(separator: "\n") + "\n") else { fail("cannot write \(file)") }
        }
        print(markdown)
        exit(0)
    }
    let last = marks.last! + window
    let built = try versions.build(1...last, jobs: 2)
    say("built \(built.built) versions in \(format3(built.seconds)) s (\(last - built.built) from \(versions.cache))")
    let objectBytes = (1...last).map { n -> Int in
        var info = stat()
        stat(versions.path(n), &info)
        return Int(info.st_size)
    }.reduce(0, +) / last

    let server = fixture.node.codeServer
    let exports = server.exports
    let version = exports.function("curve", "version", ((Int) throws -> Int).self)
    let inc = exports.function("curve", "inc", ((Int) throws -> Int).self)
    _ = try server.load([versions.path(1)])
    _ = try Servers.start("curve", "counter", name: "curve_counter")
    var loaded = 1
    var bumps = 0
    /// A message to the module's server, through an export: the server
    /// moves to the current version (its state crossing by `codeChange`),
    /// so that the old version is free to be purged by the next load.
    func bump() throws {
        bumps += 1
        guard try exports.call("curve", "bump", []).intValue == bumps else { fail("the counter lost its state") }
    }
    var results: [Checkpoint] = []
    let started = monotonicSeconds()
    for mark in marks {
        // Loads up to the checkpoint, as fast as the node takes them.
        while loaded < mark {
            loaded += 1
            _ = try server.load([versions.path(loaded)])
            try bump()
        }
        var point = Checkpoint()
        point.loads = mark
        var perf: Subprocess?
        if mark == marks.last, let file = getenv("HOTCURVE_PERF").map({ String(cString: $0) }) {
            perf = try Subprocess.spawn("/usr/bin/perf", ["record", "-g", "-F", "4999", "-o", file, "-p", "\(getpid())"], output: .inherit)
            sleep(2)
        }
        let memory = Memory.read()
        point.resident = memory.resident
        point.mapped = memory.mapped
        point.mappings = Memory.mappings()
        point.typedNs = try nanosPerCall(200_000) { try inc(1) }
        point.dynamicNs = try nanosPerCall(100_000) { try exports.call("curve", "inc", argument: .int(1)).intValue ?? 0 }
        var misses: [Double] = []
        for _ in 0..<50 { misses.append(freshCast()) }
        misses.sort()
        point.missP50 = quantile(misses, 0.5)
        var hits: [Double] = []
        for _ in 0..<50 { hits.append(seenCast()) }
        hits.sort()
        point.hit = quantile(hits, 0.5)
        // Swaps: from the load request to the first call the new version
        // serves (as hotbench times them); then, apart, the first call of
        // the new version that decodes its Codable type.
        var swaps: [Double] = []
        var firsts: [Double] = []
        for _ in 0..<window {
            loaded += 1
            let t0 = monotonicSeconds()
            _ = try server.load([versions.path(loaded)])
            while try version(0) != loaded {}
            swaps.append(monotonicSeconds() - t0)
            let t1 = monotonicSeconds()
            let item = try exports.call("curve", "item", argument: .int(loaded))
            firsts.append(monotonicSeconds() - t1)
            guard item["version"]?.intValue == loaded else { fail("v\(loaded) did not answer item") }
            try bump()
        }
        swaps.sort()
        firsts.sort()
        point.swapP50 = quantile(swaps, 0.5)
        point.swapP99 = quantile(swaps, 0.99)
        point.firstCallP50 = quantile(firsts, 0.5)
        if let perf {
            perf.signal(SIGINT)
            _ = perf.wait()
        }
        results.append(point)
        say("at \(mark) loads: swap p50 \(format3(point.swapP50 * 1e3)) ms, mappings \(point.mappings), after \(format3(monotonicSeconds() - started)) s")
    }

    let first = results.first!
    let final = results.last!
    let ratio = { (a: Double, b: Double) in format3(a / b) }
    let us = { (s: Double) in format3(s * 1e6) }
    let ms = { (s: Double) in format3(s * 1e3) }
    // Bytes per version between the first and the last checkpoint (the
    // window's loads count too: every load is a distinct version).
    let between = Double((final.loads - first.loads))
    let mappedPerVersion = Double(final.mapped - first.mapped) / between
    let residentPerVersion = Double(final.resident - first.resident) / between
    let mapsPerVersion = Double(final.mappings - first.mappings) / between
    if let summary = getenv("HOTBENCH_SUMMARY").map({ String(cString: $0) }) {
        let lines = [
            "curve_loads \(final.loads)",
            "curve_swap_p50_ratio \(ratio(final.swapP50, first.swapP50))",
            "curve_swap_p99_ratio \(ratio(final.swapP99, first.swapP99))",
            "curve_first_ratio \(ratio(final.firstCallP50, first.firstCallP50))",
            "curve_typed_ratio \(ratio(final.typedNs, first.typedNs))",
            "curve_dynamic_ratio \(ratio(final.dynamicNs, first.dynamicNs))",
            "curve_miss_ratio \(ratio(final.missP50, first.missP50))",
            "curve_mapped_ratio \(format3(mappedPerVersion / Double(objectBytes)))",
            "curve_maps_per_version \(format3(mapsPerVersion))",
            "curve_build_seconds \(format3(built.seconds))",
            "curve_built \(built.built)",
        ]
        guard appendFile(summary, lines.joined(separator: "\n") + "\n") else { fail("cannot write \(summary)") }
    }
    var rows = ""
    func row(_ what: String, _ target: String, _ value: (Checkpoint) -> String) {
        rows += "| \(what) | " + results.map(value).joined(separator: " | ") + " | \(target) |\n"
    }
    row("swap p50 (ms)", "within 1.2x of at \(first.loads)") { ms($0.swapP50) }
    row("swap p99 (ms)", "within 1.2x") { ms($0.swapP99) }
    row("first call of a new version, Codable result (µs)", "within 1.2x") { us($0.firstCallP50) }
    row("typed external call (ns)", "within 1.2x") { format3($0.typedNs) }
    row("dynamic Term call (ns)", "within 1.2x") { format3($0.dynamicNs) }
    row("`as? any P` missing the conformance cache (µs)", "within 1.2x") { us($0.missP50) }
    row("the same cast, cached (µs)", "") { us($0.hit) }
    row("resident", "") { Memory.kib($0.resident) }
    row("mapped (VmSize)", "") { Memory.kib($0.mapped) }
    row("lines in /proc/PID/maps", "") { "\($0.mappings)" }
    let header = results.map { "at \($0.loads) loads" }.joined(separator: " | ")
    print("""
        ## Load curve

        `hotcurve \(marks.map(String.init).joined(separator: " "))` (Benchmarks/hotcurve): one node, in the benchmark's process,
        takes \(loaded) loads of distinct versions of one small module (three exports, a server, a
        Codable type), each a version not loaded before. At each checkpoint: calls through the
        export table, typed and dynamic (median of five rounds); a cast `is any P` of a type the
        runtime has never seen (a new generic instance such as `Fresh<Other<Fresh<Int>>>` of host types; P is
        declared in the host and has no conformance, so the runtime scans every conformance record
        of every loaded image before it answers no), median of 50; then \(window) swaps, each timed
        from the load request to the first call served by the new version, and, apart, the new
        version's first call that returns its Codable type. The versions are compiled by the
        frontend and the linker directly, two at a time, with the lines `hot build` derived for
        the first version: \(built.built) built in \(format3(built.seconds)) s this run (the rest from a cache).

        | figure | \(header) | target |
        | --- | \(results.map { _ in "---" }.joined(separator: " | ")) | --- |
        \(rows)
        | per version, from \(first.loads) to \(final.loads) loads | value | against the object (\(objectBytes) bytes) | target |
        | --- | --- | --- | --- |
        | mapped bytes | \(Int(mappedPerVersion)) | \(format3(mappedPerVersion / Double(objectBytes))) | at most 1.1 |
        | resident bytes | \(Int(residentPerVersion)) | \(format3(residentPerVersion / Double(objectBytes))) | |
        | lines in /proc/PID/maps | \(format3(mapsPerVersion)) | | |
        """)
    if getenv("HOTCURVE_FILL_MAPS") != nil { try Ceiling.reach(server: server, versions: versions, from: loaded + 1, bump: bump) }
} catch {
    fail("\(error)")
}
