import Foundation
import Testing

/// What survives a reload and what keeps running old code (docs/RELOADING.md):
/// a module's global against the node's kept state, and a task started
/// through Hot's tracked tasks against a purge, a load and a compaction.
/// Real modules built by swiftc through `hot deploy`, a real node under `hot
/// start`; `Scratch.close` stops the node and removes the folder whatever
/// the test did.
@Suite("Reloading: kept state and tracked tasks", .serialized)
struct ReloadingTests {
    @Test("a module's global starts fresh with each version; its kept state survives five reloads and a compaction")
    func keptStateSurvives() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(
            scratch, modules: ["tally": ReloadingModules.tally(version: 1), "ticker": ReloadingModules.ticker(version: 1)])
        #expect(try app.callMap("tally:hit") as NSDictionary == ["global": 1, "kept": 1, "version": 1])
        #expect(try app.callMap("tally:hit") as NSDictionary == ["global": 2, "kept": 2, "version": 1])
        for version in 2...6 {
            try app.deploy("tally", ReloadingModules.tally(version: version))
            // The global is the new version's own, from its initial value;
            // the kept count goes on from where the last version left it.
            let hit = try app.callMap("tally:hit")
            #expect(hit as NSDictionary == ["global": 1, "kept": version + 1, "version": version], "after the reload to v\(version)")
        }
        let kept = try #require(app.status().module("tally")?["kept"] as? [[String: Any]])
        #expect(kept.map { $0["key"] as? String } == ["hits"] && (kept.first?["bytes"] as? Int ?? 0) > 0, "\(kept)")
        #expect(try app.hot(["status"]).stdout.contains("keeps hits ("))

        // The ticker's task cannot cross the exec: refused, naming it, until --purge.
        let refused = try app.hot(["compact"])
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("tracked task") && refused.stderr.contains("ticker (ticker v1)"), "\(refused)")
        #expect(refused.stderr.contains("--purge"), "\(refused)")
        let ticksBefore = try #require(try app.call("ticker:ticks") as? Int)
        let compacted = try app.hot(["compact", "--purge"])
        #expect(compacted.status == 0, "\(compacted)\nnode log:\n\((try? app.log()) ?? "")")
        #expect(compacted.stdout.contains("cancelled tracked tasks #"), "\(compacted)")
        // A fresh process, the same version: the global starts again, the kept count does not.
        #expect(try app.callMap("tally:hit") as NSDictionary == ["global": 1, "kept": 8, "version": 6])
        // The on-load hook ran again in the new process: a ticker runs, counting on from the kept ticks.
        let status = try app.status()
        #expect(status.tasks.map { $0["label"] as? String } == ["ticker"], "\(status)")
        try app.expectEventually("the ticker counts on from \(ticksBefore)") { _ in
            ((try? app.call("ticker:ticks")) as? Int ?? 0) > ticksBefore
        }
    }

    @Test("a tracked task shows in hot status with its label, blocks a load without purge, and stops at purge; a deaf one is reported")
    func trackedTasks() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["ticker": ReloadingModules.ticker(version: 1)])
        let line = ReloadingModules.tickerStartLine

        var status = try app.status()
        let first = try #require(status.tasks.first, "the on-load hook's task must show: \(status)")
        #expect(first["label"] as? String == "ticker" && first["module"] as? String == "ticker")
        #expect(first["version"] as? Int == 1 && first["code"] as? String == "current")
        #expect(first["file"] as? String == "ticker.swift" && first["line"] as? Int == line, "\(first)")
        let text = try app.hot(["status"]).stdout
        #expect(text.contains("tracked tasks:") && text.contains("ticker ticker v1 (current code) started at ticker.swift:\(line)"), "\(text)")
        #expect(text.contains("current v1") && text.contains("(1 tracked task)"), "\(text)")
        try app.expectEventually("the ticker ticks") { _ in ((try? app.call("ticker:ticks")) as? Int ?? 0) > 0 }

        // v2's hook starts a ticker of its own; v1's runs on, in old code.
        try app.deploy("ticker", ReloadingModules.ticker(version: 2))
        status = try app.status()
        #expect(status.old("ticker")?["tasks"] as? Int == 1, "\(status)")
        #expect(Set(status.tasks.map { "\($0["version"] as? Int ?? 0) \($0["code"] as? String ?? "")" }) == ["1 old", "2 current"])
        #expect(try app.hot(["status"]).stdout.contains("old v1 (0 processes, 1 tracked task)"))

        // v3 would drop v1, which its task still runs: refused (not_purged), naming the task.
        try app.write("ticker", ReloadingModules.ticker(version: 3))
        let refused = try app.hot(["deploy"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("tracked task #\(first["id"] as? Int ?? 0) ticker (ticker v1)"), "\(refused)")
        #expect(refused.stderr.contains("--purge"), "\(refused)")
        #expect(try app.status().currentVersion("ticker") == 2, "a refused load changes nothing")

        // Purge cancels it: gone from the table, and v1 with it.
        let purged = try app.hot(["purge", "ticker"])
        #expect(purged.status == 0, "\(purged)")
        #expect(purged.stdout.contains("purged ticker v1, cancelled tracked task #\(first["id"] as? Int ?? 0) ticker (ticker v1)"), "\(purged)")
        status = try app.status()
        #expect(status.tasks.map { $0["version"] as? Int } == [2], "\(status)")
        #expect(status.old("ticker") == nil)
        #expect(try app.log().contains("ticker (ticker v1) stopped"), "the node log must record the stop")

        // v3 makes v2 old, with its ticker and a task deaf to cancellation:
        // the purge cancels both and reports the deaf one as not ended.
        let deaf = try #require(try app.call("ticker:deaf") as? Int)
        try app.deploy("ticker", ReloadingModules.ticker(version: 3))
        #expect(try app.status().old("ticker")?["tasks"] as? Int == 2)
        let stubborn = try app.hot(["purge", "ticker"])
        #expect(stubborn.status == 1, "\(stubborn)")
        #expect(stubborn.stdout.contains("purged ticker v2, cancelled tracked tasks #") && stubborn.stdout.contains("#\(deaf) deaf (ticker v2)"), "\(stubborn)")
        #expect(stubborn.stderr.contains("tracked task #\(deaf) deaf (ticker v2) did not end when cancelled; its code stays mapped"), "\(stubborn)")
        try app.expectEventually("the deaf task ended", seconds: 10) { status in
            status.tasks.map { $0["version"] as? Int } == [3]
        }

        // A load with --purge cancels the tasks of the old version it drops.
        try app.deploy("ticker", ReloadingModules.ticker(version: 4))
        try app.write("ticker", ReloadingModules.ticker(version: 5))
        let loaded = try app.hot(["deploy", "--purge"])
        #expect(loaded.status == 0, "\(loaded)")
        #expect(loaded.stdout.contains("ticker v4 -> v5 (purged: cancelled tracked tasks #") && loaded.stdout.contains("ticker (ticker v3))"), "\(loaded)")
        status = try app.status()
        #expect(status.tasks.map { $0["version"] as? Int }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [4, 5], "\(status)")
    }

    @Test("a whileCurrent task of an on-load hook is taken over by each new version: loads need no purge")
    func whileCurrentTasks() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let app = try CodeServerProject(scratch, modules: ["beat": ReloadingModules.beat(version: 1)])
        for version in 2...4 {
            try app.deploy("beat", ReloadingModules.beat(version: version))
            try app.expectEventually("only v\(version)'s task runs") { status in
                status.tasks.map { "\($0["version"] as? Int ?? 0) \($0["lifetime"] as? String ?? "")" } == ["\(version) whileCurrent"]
            }
        }
        #expect(try app.hot(["status"]).stdout.contains("(current code) started at beat.swift:"))
        #expect(try app.call("beat:beats") as? Int ?? 0 > 0)
    }
}

extension NodeStatus {
    var tasks: [[String: Any]] { document["tasks"] as? [[String: Any]] ?? [] }
}

/// The modules of the reloading tests.
enum ReloadingModules {
    /// `hit()` counts in a global of its version and in the node's kept
    /// state, and answers both with the version.
    static func tally(version: Int) -> String {
        """
        import Hot

        // tally, version \(version)
        nonisolated(unsafe) var hits = 0
        let kept = Kept("hits", default: 0)

        let module = HotModule(exports: [
            .function("hit", { () throws -> [String: Int] in
                hits += 1
                let total = try kept.withValue { count in
                    count += 1
                    return count
                }
                return ["global": hits, "kept": total, "version": \(version)]
            }),
        ])

        """
    }

    /// Its on-load hook starts a `whileCurrent` task that counts the kept
    /// `beats`; `beats()` reads them.
    static func beat(version: Int) -> String {
        """
        import Hot

        // beat, version \(version)
        let beats = Kept("beats", default: 0)

        let module = HotModule(
            exports: [.function("beats", { () throws -> Int in try beats.value })],
            onLoad: {
                _ = try Tasks.start("beat", lifetime: .whileCurrent) {
                    while true {
                        try await Task.sleep(for: .milliseconds(20))
                        try beats.withValue { $0 += 1 }
                    }
                }
            })

        """
    }

    /// The line of `Tasks.start("ticker")` in `ticker`'s source.
    static var tickerStartLine: Int {
        let lines = ticker(version: 1).split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { $0.contains(#"Tasks.start("ticker")"#) } ?? -1) + 1
    }

    /// Its on-load hook starts a tracked task `ticker` that adds one to the
    /// kept `ticks` every 20 ms until cancelled; `ticks()` reads them;
    /// `deaf()` starts a task that ignores cancellation for 3 s and returns
    /// its number.
    static func ticker(version: Int) -> String {
        """
        import Glibc
        import Hot

        // ticker, version \(version)
        let ticks = Kept("ticks", default: 0)

        let module = HotModule(
            exports: [
                .function("ticks", { () throws -> Int in try ticks.value }),
                .function("deaf", { () throws -> Int in
                    let task = try Tasks.start("deaf") {
                        for _ in 0..<60 { usleep(50_000) }
                    }
                    return Int(task.id)
                }),
            ],
            onLoad: {
                _ = try Tasks.start("ticker") {
                    while true {
                        try await Task.sleep(for: .milliseconds(20))
                        try ticks.withValue { $0 += 1 }
                    }
                }
            })

        """
    }
}
