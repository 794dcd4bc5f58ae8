import Benchmark
import BenchSupport
import Hot
import HotNode

// Figure 1 of BENCHMARKS.md: an external call through the export table (the
// typed path, and the dynamic Term path) against a direct call of the same
// function through a protocol existential in this binary; and figure 1b, a
// typed async handle call (counted in flight) against a direct async call.

/// The baseline: the same function behind a protocol existential.
protocol Incrementing { func inc(_ x: Int) -> Int }
struct Incrementer: Incrementing { func inc(_ x: Int) -> Int { x &+ 1 } }
struct Decrementer: Incrementing { func inc(_ x: Int) -> Int { x &- 1 } }

/// The async baseline: the same async function behind a protocol existential.
protocol AsyncIncrementing: Sendable { func inc(_ x: Int) async throws -> Int }
struct AsyncIncrementer: AsyncIncrementing { func inc(_ x: Int) async throws -> Int { x &+ 1 } }
struct AsyncDecrementer: AsyncIncrementing { func inc(_ x: Int) async throws -> Int { x &- 1 } }

@inline(never) func makeAsyncIncrementer() -> any AsyncIncrementing {
    CommandLine.arguments.contains("--never") ? AsyncDecrementer() : AsyncIncrementer()
}

/// The concrete type is chosen at run time, so the optimizer can neither
/// devirtualize the call nor fold a thousand of them into one addition.
@inline(never) func makeIncrementer() -> any Incrementing {
    CommandLine.arguments.contains("--never") ? Decrementer() : Incrementer()
}

let moduleSource = """
    import Hot
    let module = HotModule(exports: [.function("inc", inc), .function("echo", echo), .function("ainc", ainc)])
    func inc(_ x: Int) -> Int { x &+ 1 }
    @Sendable func ainc(_ x: Int) async throws -> Int { x &+ 1 }
    func echo(_ s: String) -> String { s }
    """

nonisolated(unsafe) var fixture: Fixture?

func loadedFixture() throws -> Fixture {
    if let fixture { return fixture }
    let made = try Fixture()
    try made.write(module: "calls", moduleSource)
    _ = try made.node.codeServer.load([try made.build("calls")])
    fixture = made
    return made
}

/// Calls per measured iteration: the harness reports whole nanoseconds per
/// iteration, too coarse for a 3 ns call, so each iteration makes a thousand
/// calls and the figures read as ns per thousand calls.
let batch = 1000

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: [.wallClock], scalingFactor: .kilo, maxDuration: .seconds(3))
    Benchmark.defaultConfiguration = configuration

    Benchmark("direct existential call") { benchmark in
        let incrementer = makeIncrementer()
        var x = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { for _ in 0..<batch { x = incrementer.inc(x) } }
        blackHole(x)
    }

    Benchmark("typed external call") { benchmark in
        let inc = try loadedFixture().node.codeServer.exports.function("calls", "inc", ((Int) throws -> Int).self)
        var x = try inc(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { for _ in 0..<batch { x = try inc(x) } }
        blackHole(x)
    }

    Benchmark("direct async existential call") { benchmark async throws in
        let incrementer = makeAsyncIncrementer()
        var x = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { for _ in 0..<batch { x = try await incrementer.inc(x) } }
        blackHole(x)
    }

    Benchmark("typed async external call") { benchmark async throws in
        let inc = try loadedFixture().node.function("calls", "ainc", ((Int) async throws -> Int).self)
        var x = try await inc(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { for _ in 0..<batch { x = try await inc(x) } }
        blackHole(x)
    }

    Benchmark("dynamic Term call, int in and out") { benchmark in
        let exports = try loadedFixture().node.codeServer.exports
        var x = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch { x = try exports.call("calls", "inc", argument: .int(x)).intValue ?? 0 }
        }
        blackHole(x)
    }

    Benchmark("dynamic Term call, int in and out, argument array") { benchmark in
        let exports = try loadedFixture().node.codeServer.exports
        var x = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch { x = try exports.call("calls", "inc", [.int(x)]).intValue ?? 0 }
        }
        blackHole(x)
    }

    Benchmark("dynamic Term call, 1 KB string in and out") { benchmark in
        let exports = try loadedFixture().node.codeServer.exports
        let text = String(repeating: "x", count: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch { blackHole(try exports.call("calls", "echo", argument: .string(text))) }
        }
    }
}
