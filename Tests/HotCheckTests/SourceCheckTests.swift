import Testing
@testable import HotCheck

/// The checks over source texts: every kind is found where it is, and
/// nothing is found in comments, string literals, locals, instance
/// properties or names that only look alike.
@Suite("Build checks")
struct SourceCheckTests {
    /// The findings of one file holding `source`.
    private func check(_ source: String, file: String = "hello/hello.swift") -> [Finding] {
        FileCheck(file: file, source: Array(source.utf8)).findings
    }

    /// Kind and line of each finding, in order.
    private func sites(_ source: String) -> [String] {
        check(source).map { "\($0.kind.rawValue)@\($0.line)" }
    }

    @Test("the issue's module: the global, the atomic and the detached task, each at its line and column")
    func issueModule() {
        let source = """
            import Hot
            import Synchronization
            nonisolated(unsafe) var hits = 0
            let ticks = Atomic<Int>(0)
            let module = HotModule(
                exports: [.function("hit", { () -> Int in hits += 1; return hits })],
                onLoad: { Task.detached { while true { ticks.add(1, ordering: .relaxed); try? await Task.sleep(for: .milliseconds(10)) } } })
            """
        let found = check(source)
        #expect(found.map(\.kind) == [.globalVar, .synchronizedState, .detachedTask])
        #expect(found.map(\.line) == [3, 4, 7])
        #expect(found.map(\.column) == [1, 1, 15])
        #expect(found[0].message == "top-level var 'hits' is module-level mutable state")
        #expect(found[1].message == "top-level let 'ticks' keeps mutable state in Atomic")
        #expect(found[2].declarations == ["module"], "the task is inside `let module`")
        #expect(
            found[0].diagnostic(.warning, root: "/p")
                == "/p/hello/hello.swift:3:1: warning: [hot] top-level var 'hits' is module-level mutable state; "
                + "such state belongs to this version and starts fresh in the next one; keep it in a server's state "
                + "(crosses by codeChange) or in a `Kept` value, the node's kept state (docs/RELOADING.md), or mark the site `// hot: allow`")
        #expect(found[2].fix.contains("`Tasks.start`, Hot's tracked tasks (docs/RELOADING.md)") && found[2].fix.contains("`Process.spawn`"))
    }

    @Test("the homes the fixes point to are never reported: Kept, Tasks.start and Process.spawn, as docs/RELOADING.md writes them")
    func homesAreQuiet() {
        let source = """
            import Hot
            let ticks = Kept("ticks", default: 0)
            let module = HotModule(
                exports: [.function("ticks", { () throws -> Int in try ticks.value })],
                onLoad: {
                    _ = try Tasks.start("ticker") {
                        while true {
                            try await Task.sleep(for: .seconds(1))
                            try ticks.withValue { $0 += 1 }
                        }
                    }
                    _ = try Tasks.start("poller", lifetime: .whileCurrent) { try await Task.sleep(for: .seconds(5)) }
                    _ = try Process.spawn("ticker", "loop", [])
                })
            """
        #expect(check(source).isEmpty, "\(check(source))")
    }

    @Test("module-level state: top-level and static vars, stored ones only, in types, extensions and #if")
    func state() {
        let source = """
            var count = 0
            var (a, b) = (1, 2)
            var computed: Int { count * 2 }
            var observed = 0 { didSet { print(observed) } }
            #if DEBUG
            var debugOnly = 1
            #endif
            enum Counter {
                static var total = 0
                static var twice: Int { total * 2 }
                class Inner { class var name: String { "x" } }
            }
            extension String { static var cache: [String] = [] }
            protocol Named { static var name: String { get } }
            """
        #expect(sites(source) == ["globalVar@1", "globalVar@2", "globalVar@4", "globalVar@6", "staticVar@9", "staticVar@13"])
        let found = check(source)
        #expect(found[1].message == "top-level var 'a', 'b' is module-level mutable state")
        #expect(found[4].message == "static var 'total' of Counter is module-level mutable state")
        #expect(found[4].declarations == ["total", "Counter"])
        #expect(found[5].message == "static var 'cache' of String is module-level mutable state")
    }

    @Test("nonisolated(unsafe) on a top-level or static declaration; locals and instance properties are not the module's")
    func nonisolatedUnsafe() {
        let source = """
            nonisolated(unsafe) let formatter = Formatter()
            struct Cache {
                nonisolated(unsafe) static let shared = Box()
                nonisolated(unsafe) var mine = Box()
                var count = 0
                let lock = NSLock()
                func run() {
                    nonisolated(unsafe) var local = 0
                    var other = 1
                    let mutex = Mutex(0)
                    static var impossible = 0
                }
            }
            """
        #expect(sites(source) == ["nonisolatedUnsafe@1", "nonisolatedUnsafe@3", "staticVar@11"])
    }

    @Test("a let holding a synchronisation box, by its initializer or its annotation; other lets are values")
    func boxes() {
        let source = """
            let ticks = Atomic<Int>(0)
            let plain = Atomic(0)
            let names = Mutex<[String]>([])
            let qualified = Synchronization.Mutex(0)
            let annotated: ManagedAtomic<Int> = .init(0)
            let viaInit = NIOLockedValueBox.init([1])
            let lock = NSLock()
            let unfair = OSAllocatedUnfairLock(initialState: 0)
            enum Shared { static let counter = Atomic<Int>(0) }
            let number = 42
            let list = [Atomic<Int>]()
            let atomicName = makeAtomic()
            let AtomicList = List()
            """
        #expect(sites(source) == (1...9).map { "synchronizedState@\($0)" })
    }

    @Test("work outside Hot: Task, Task.detached, Thread, DispatchQueue's async, pthread_create, anywhere in the file")
    func work() {
        let source = """
            func start() {
                Task { await poll() }
                Task(priority: .high) { await poll() }
                Task<Void, Never> { }
                Task.detached { }
                Task.detached(priority: .low, operation: poll)
                _ = Thread { spin() }
                Thread.detachNewThread { spin() }
                DispatchQueue.global().async { spin() }
                DispatchQueue.main.asyncAfter(deadline: .now() + 1) { spin() }
                DispatchQueue(label: "q", qos: .utility).async { spin() }
                pthread_create(&thread, nil, body, nil)
                _Concurrency.Task { }
            }
            let module = HotModule(exports: [], onLoad: { _ = Task { } })
            struct Poller { var handle = Task { } }
            """
        #expect(sites(source) == [
            "task@2", "task@3", "task@4", "detachedTask@5", "detachedTask@6", "thread@7", "thread@8",
            "dispatch@9", "dispatch@10", "dispatch@11", "pthread@12", "task@13", "task@15", "task@16",
        ])
        let found = check(source)
        #expect(found[0].message == "`Task { }` starts work that Hot does not track")
        #expect(found[0].declarations == ["start"])
        #expect(found[7].message == "`DispatchQueue….async` starts work that Hot does not track")
        #expect(found[8].message == "`DispatchQueue….asyncAfter` starts work that Hot does not track")
        #expect(found[13].declarations == ["handle", "Poller"])
    }

    @Test("no misfire: comments, string literals, look-alike names, structured and synchronous calls")
    func noMisfire() {
        let source = #"""
            // Task { } and Task.detached { } and var x = 0 in a comment
            /* DispatchQueue.global().async { } pthread_create(...) */
            /// static var documented = 0
            let text = "Task { } Task.detached { } Thread { } var hits = 0"
            let multi = """
                DispatchQueue.main.async { }
                nonisolated(unsafe) var z = 0
                """
            let TaskList = [1]
            func myTask(_ f: () -> Void) { f() }
            func run() async throws {
                myTask { }
                let t = TaskList
                try await Task.sleep(for: .seconds(1))
                try Task.checkCancellation()
                await Task.yield()
                _ = Task.isCancelled
                Thread.sleep(forTimeInterval: 1)
                DispatchQueue.main.sync { }
                queue.async { }
                self.Task { }
                await withTaskGroup(of: Void.self) { group in group.addTask { } }
                var local = 0
                local += 1
            }
            """#
        #expect(check(source).isEmpty, "\(check(source))")
    }

    @Test("a module's own Task, Thread or DispatchQueue type, in any of its files or an include file, is not the API")
    func shadowed() {
        let mine = FileCheck(file: "m/a.swift", source: Array("func go() { Task { }; Thread.detachNewThread { }; Thread() }".utf8))
        #expect(SourceCheck.findings(in: [mine]).count == 3)
        let task = FileCheck(file: "m/b.swift", source: Array("struct Task { init(_ f: () -> Void) {} }".utf8))
        let thread = FileCheck(file: "shared/t.swift", source: Array("typealias Thread = MyThread".utf8))
        #expect(SourceCheck.findings(in: [mine, task]).map(\.kind) == [.thread, .thread])
        #expect(SourceCheck.findings(in: [mine], alongside: [task, thread]).isEmpty)
        // Extending a type is not declaring one.
        let extended = FileCheck(file: "m/c.swift", source: Array("extension Task { }".utf8))
        #expect(SourceCheck.findings(in: [mine, extended]).count == 3)
    }

    @Test("`// hot: allow` on the flagged line silences that site, with or without a reason; elsewhere it does not")
    func allowComments() {
        let source = """
            var hits = 0 // hot: allow
            var misses = 0 // hot: allow counted per version on purpose
            @available(*, deprecated)
            static var old = 0   // hot: allow
            let ticks = Atomic<Int>(0) //hot: allow
            func f() {
                Task.detached { } // hot: allow
                DispatchQueue.global()
                    .async { }   // hot: allow
            }
            // hot: allow
            var above = 0
            var near = 0 // hot: allowed
            var block = 0 /* hot: allow */
            var doc = 0 /// hot: allow
            let s = "// hot: allow"; var sameLine = 0
            """
        #expect(sites(source) == ["globalVar@12", "globalVar@13", "globalVar@14", "globalVar@15", "globalVar@16"])
    }

    @Test("source that does not compile still parses: its sites are found, and nothing traps")
    func brokenSource() {
        #expect(sites("var x = \nTask.detached {\n func (") .contains("detachedTask@2"))
        #expect(sites("").isEmpty)
        #expect(sites("Task(").map { $0.hasPrefix("task@") } == [true])
    }
}
