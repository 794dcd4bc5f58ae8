#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Hot
import HotPlatform
import HotWire

/// Figure 13 of BENCHMARKS.md: what compaction gives back. A real `hotnode`
/// (HOT_BIN) takes the curve's versions over its control socket as a deploy
/// gives them (stage, check, load); the same figures are taken from outside
/// on the fresh node, after `loads`, and once it compacted: swaps (the load
/// request to the first call the new version answers), the first call of a
/// new version, the node's resident bytes and mappings. The compaction
/// itself: how long clients waited (the node's own `pausedMilliseconds`) and
/// how long from the request until the node served again.
struct CompactionFigure {
    let versions: Versions
    let hotnode: String
    let folder: String
    let loads: Int

    struct Point {
        var label = ""
        var swapP50 = 0.0
        var swapP99 = 0.0
        var firstCallP50 = 0.0
        var resident = 0
        var mappings = 0
        var versions = 0
    }

    /// The node, its connection and the versions it has loaded.
    final class Remote {
        let node: Subprocess
        let socket: String
        let cookie: [UInt8]
        var connection: Connection
        var loaded = 0

        init(node: Subprocess, socket: String, cookie: [UInt8]) throws {
            self.node = node
            self.socket = socket
            self.cookie = cookie
            connection = try Remote.connect(socket, cookie, node)
        }

        static func connect(_ socket: String, _ cookie: [UInt8], _ node: Subprocess) throws -> Connection {
            let deadline = monotonicSeconds() + 30
            while true {
                do {
                    return try Connection.open(to: .unix(path: socket), cookie: cookie)
                } catch {
                    if node.hasExited() { throw FixtureError("hotnode exited: \(error)") }
                    if monotonicSeconds() > deadline { throw FixtureError("hotnode did not serve within 30 s: \(error)") }
                    usleep(20_000)
                }
            }
        }

        func ask(_ request: Request) throws -> Term {
            switch try connection.request(request) {
            case .ok(let value): return value
            case .error(let code, let message): throw FixtureError("\(request): \(code.rawValue): \(message)")
            }
        }

        /// Uploads version `n`'s object, as `hot deploy` does before a load.
        func stage(_ path: String) throws {
            guard let bytes = readFile(path) else { throw FixtureError("cannot read \(path)") }
            let file = String(path.split(separator: "/").last!)
            let header = Request.stage(file: file, size: bytes.count, sha256: SHA256Hasher.hex(of: bytes))
            let answer = try connection.exchange { () throws(WireError) in
                try connection.send(Frame(.request, TermCodec.encode(header.term)))
                try connection.send(Frame(.chunk, bytes))
            }
            if case .error(let code, let message) = answer { throw FixtureError("stage \(file): \(code.rawValue): \(message)") }
            // The trial load in a child, as `hot deploy` asks for it
            // before it loads (docs/ARCHITECTURE.md, "Deploy").
            _ = try ask(.check(files: [file]))
        }

        func load(_ path: String) throws {
            _ = try ask(.load(files: [String(path.split(separator: "/").last!)], purge: false, force: false))
        }

        func version() throws -> Int {
            try ask(.call(module: "curve", function: "version", args: [.int(0)])).intValue ?? -1
        }

        func memory() -> (resident: Int, mappings: Int) {
            let memory = ProcessMemory.of(pid: node.pid)
            return (memory?.resident ?? 0, memory?.mappings ?? 0)
        }

        func status() throws -> StatusReply { try StatusReply(term: ask(.status)) }
    }

    func run() throws -> (markdown: String, summary: [String]) {
        try makeDirectories(folder)
        let cookieFile = folder + "/cookie"
        let cookie = try Cookie.create(path: cookieFile)
        let socket = folder + "/node.sock"
        let node = try Subprocess.spawn(
            hotnode,
            ["--name", "curve", "--listen", "unix:" + socket, "--cookie-file", cookieFile, "--state", folder + "/state"],
            output: .file(folder + "/node.log"))
        defer {
            node.signal(SIGTERM)
            _ = node.wait()
        }
        let remote = try Remote(node: node, socket: socket, cookie: cookie)
        func loadNext() throws {
            remote.loaded += 1
            try remote.stage(versions.path(remote.loaded))
            try remote.load(versions.path(remote.loaded))
        }
        try loadNext()
        var points: [Point] = []
        try loadTo(10, remote, loadNext)
        points.append(try measure("fresh node, \(remote.loaded) loads", remote))
        try loadTo(loads, remote, loadNext)
        points.append(try measure("after \(remote.loaded) loads", remote))

        let before = remote.memory()
        let t0 = monotonicSeconds()
        let reply = try CompactReply(term: remote.ask(.compact(purge: false)))
        remote.connection.close()
        remote.connection = try Remote.connect(socket, cookie, node)
        var record: StatusReply.Compaction?
        while record == nil {
            record = try remote.status().lastCompaction
            if record == nil {
                if monotonicSeconds() - t0 > 30 { throw FixtureError("no compaction recorded within 30 s") }
                usleep(2_000)
            }
        }
        let served = monotonicSeconds() - t0
        guard let record, try remote.version() == remote.loaded else { throw FixtureError("the compacted node lost its current version") }
        let after = remote.memory()
        points.append(try measure("compacted after \(remote.loaded) loads", remote))

        let fresh = points[0]
        let grown = points[1]
        let compacted = points[2]
        let ms = { (s: Double) in format3(s * 1e3) }
        let us = { (s: Double) in format3(s * 1e6) }
        var rows = ""
        func row(_ what: String, _ value: (Point) -> String) {
            rows += "| \(what) | " + points.map(value).joined(separator: " | ") + " |\n"
        }
        row("swap p50 (ms)") { ms($0.swapP50) }
        row("swap p99 (ms)") { ms($0.swapP99) }
        row("first call of a new version, Codable result (µs)") { us($0.firstCallP50) }
        row("versions mapped") { "\($0.versions)" }
        row("resident") { Memory.kib($0.resident) }
        row("lines in /proc/PID/maps") { "\($0.mappings)" }
        let summary = [
            "compact_loads \(remote.loaded - 2 * CompactionFigure.window)",
            "compact_swap_p50_ratio \(format3(compacted.swapP50 / fresh.swapP50))",
            "compact_swap_p99_ratio \(format3(compacted.swapP99 / fresh.swapP99))",
            "compact_first_ratio \(format3(compacted.firstCallP50 / fresh.firstCallP50))",
            "compact_grown_swap_p50_ratio \(format3(grown.swapP50 / fresh.swapP50))",
            "compact_resident_ratio \(format3(Double(compacted.resident) / Double(fresh.resident)))",
            "compact_paused_ms \(format3(record.pausedMilliseconds))",
            "compact_served_ms \(format3(served * 1e3))",
        ]
        let markdown = """
            ## Compaction

            `hotcurve --compaction \(loads)` (Benchmarks/hotcurve): a real `hotnode` takes the load
            curve's versions over its control socket, each staged, trial-loaded (`check`) and loaded
            as `hot deploy` does, and the figures are taken from outside the node: \(CompactionFigure.window) swaps
            after each point, each from the load request to the first call the new version answers
            (so a swap here includes the socket and the reply, not the trial), the first call of
            each new version, which returns its Codable type, and the node's resident memory and
            mappings (/proc/PID) before the swaps. After \(reply.versionsBefore) loads, one compact request: the
            node re-executes itself with only its current version mapped, and the same figures are
            taken again.

            | figure | \(points.map(\.label).joined(separator: " | ")) |
            | --- | \(points.map { _ in "---" }.joined(separator: " | ")) |
            \(rows)
            | the compaction | value |
            | --- | --- |
            | versions mapped before, after | \(record.versionsBefore), \(record.versionsAfter) |
            | resident before, after (the node's record) | \(Memory.kib(record.residentBefore)), \(Memory.kib(record.residentAfter)) |
            | lines in /proc/PID/maps before, after (the node's record) | \(record.mappingsBefore), \(record.mappingsAfter) |
            | the same from outside, before the request and once it served again | \(before.mappings), \(after.mappings) |
            | how long clients waited (the node's pausedMilliseconds) | \(format3(record.pausedMilliseconds)) ms |
            | from the request until a new connection's status showed it | \(format3(served * 1e3)) ms |
            | the reply's versions before (it answers before it re-executes) | \(reply.versionsBefore) |
            """
        return (markdown, summary)
    }

    /// Swaps timed after a checkpoint.
    static let window = 30

    private func loadTo(_ count: Int, _ remote: Remote, _ loadNext: () throws -> Void) throws {
        while remote.loaded < count { try loadNext() }
    }

    /// The figures at this point: `window` swaps, each new version staged
    /// first (outside the clock), then timed from the load request to the
    /// first call it answers; apart, its first `item` call.
    private func measure(_ label: String, _ remote: Remote) throws -> Point {
        var point = Point()
        point.label = label
        let memory = remote.memory()
        point.resident = memory.resident
        point.mappings = memory.mappings
        point.versions = try remote.status().mappedVersions ?? 0
        var swaps: [Double] = []
        var firsts: [Double] = []
        for _ in 0..<CompactionFigure.window {
            let next = remote.loaded + 1
            try remote.stage(versions.path(next))
            let t0 = monotonicSeconds()
            try remote.load(versions.path(next))
            while try remote.version() != next {}
            swaps.append(monotonicSeconds() - t0)
            remote.loaded = next
            let t1 = monotonicSeconds()
            let item = try remote.ask(.call(module: "curve", function: "item", args: [.int(next)]))
            firsts.append(monotonicSeconds() - t1)
            guard item["version"]?.intValue == next else { throw FixtureError("v\(next) did not answer item: \(item)") }
        }
        swaps.sort()
        firsts.sort()
        point.swapP50 = quantile(swaps, 0.5)
        point.swapP99 = quantile(swaps, 0.99)
        point.firstCallP50 = quantile(firsts, 0.5)
        return point
    }
}
