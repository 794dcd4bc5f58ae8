import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import Testing

/// Four threads call a module without pause while it is reloaded 100 times.
/// Not one call may fail, and every result must come from a version that was
/// current at some moment during that call. `make tsan` runs this test with
/// the node built under ThreadSanitizer, and the node's log must stay clean.
@Suite("Reload under load")
struct ReloadStressTests {
    static let versions = 8
    static let reloads = 100
    static let callers = 4

    @Sendable static func version(after load: Int) -> Int { load < 0 ? versions : load % versions + 1 }

    @Test("calls never fail and always reach a version current during the call")
    func reloadUnderLoad() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/spin"), withIntermediateDirectories: true)
        var files: [Int: String] = [:]
        for n in 1...Self.versions {
            try scratch.write("app/modules/spin/spin.swift", """
                import Hot
                let module = HotModule(exports: [.function("version", version)])
                func version() -> Int { \(n) }
                """)
            let built = try scratch.hot(["build", "spin", "--json"])
            try #require(built.status == 0, "\(built)")
            let document = try #require(try parseJSON(built.stdout) as? [String: Any])
            let module = try #require((document["modules"] as? [[String: Any]])?.first)
            #expect(module["version"] as? Int == n)
            files[n] = try #require(module["file"] as? String)
        }
        try #require(try scratch.hot(["start"]).status == 0)

        let address = NodeAddress.unix(path: scratch.path("app/.hot/node.sock"))
        let cookie = scratch.path("app/.hot/cookie")
        let loader = try NodeClient(address: address, cookieFile: cookie)
        for n in 1...Self.versions {
            let file = try #require(files[n])
            try loader.stage(path: scratch.path("app/.hot/build/spin/\(file)"), fileName: file)
        }
        // The trial loads run here, as a deploy's staging runs them, not in the loop.
        _ = try loader.request(.check(files: files.values.sorted()))

        // Load k (0-based) makes version (k % versions) + 1 current; the node
        // booted the last one built. `started` is raised before a load is
        // sent and `completed` after its reply: a call that began after load
        // `completed` and ended before load `started + 1` may only see those.
        let started = Atomic<Int>(-1)
        let completed = Atomic<Int>(-1)
        let failures = Mutex<[String]>([])
        let calls = Atomic<Int>(0)
        let done = Atomic<Bool>(false)

        let group = DispatchGroup()
        for _ in 0..<Self.callers {
            let client = try NodeClient(address: address, cookieFile: cookie)
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while !done.load(ordering: .acquiring) {
                    let low = completed.load(ordering: .acquiring)
                    let result: Term
                    do {
                        result = try client.request(.call(module: "spin", function: "version", args: [])).result
                    } catch {
                        failures.withLock { $0.append("call failed: \(error)") }
                        continue
                    }
                    let high = started.load(ordering: .acquiring)
                    calls.add(1, ordering: .relaxed)
                    let allowed = Set((low...max(low, high)).map { Self.version(after: $0) })
                    if let v = result.intValue, allowed.contains(v) { continue }
                    failures.withLock { $0.append("got \(result) while loads \(low)...\(high) were current") }
                }
            }
        }
        for k in 0..<Self.reloads {
            let file = try #require(files[Self.version(after: k)])
            started.store(k, ordering: .releasing)
            _ = try loader.request(.load(files: [file], purge: true, force: false))
            completed.store(k, ordering: .releasing)
            usleep(2_000)
        }
        done.store(true, ordering: .releasing)
        group.wait()

        let problems = failures.withLock { $0 }
        #expect(problems.isEmpty, "\(problems.count) bad calls, first: \(problems.prefix(5))")
        #expect(calls.load(ordering: .relaxed) > Self.reloads, "the callers must overlap the reloads")

        let status = try scratch.hot(["stop"])
        #expect(status.status == 0)
        let log = try scratch.read("app/.hot/node.log")
        #expect(!log.contains("ThreadSanitizer"), "\(log)")
    }
}
