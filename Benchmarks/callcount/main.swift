#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Dispatch
import Hot
import HotNode

// Figure 1's profile, and the counts `make test` checks: runs one kind of
// call (or swap) N times in a function of its own, so that callgrind,
// collecting only inside that function, counts the instructions a call costs:
//   HOT_BIN=<release build folder> valgrind --tool=callgrind --collect-atstart=no \
//     --toggle-collect='*measure*' callcount direct|typed|dynamic|array|string N
// scripts/counts.sh counts the whole process at two values of N instead, and
// divides the difference by the difference of N: that takes in what a kind
// costs outside its function too (an async call's executor, a swap's
// dynamic loader), and nothing of the start-up both runs share. Kinds
// `async` (a typed async handle call) and `swap` (a load of a new version
// of a one-function module; 34 versions are built first, and N of them,
// at most 33, loaded over the first) are for it.

protocol Incrementing { func inc(_ x: Int) -> Int }
struct Incrementer: Incrementing { func inc(_ x: Int) -> Int { x &+ 1 } }
struct Decrementer: Incrementing { func inc(_ x: Int) -> Int { x &- 1 } }

@inline(never) func makeIncrementer() -> any Incrementing {
    CommandLine.arguments.contains("--never") ? Decrementer() : Incrementer()
}

@inline(never) func measureDirect(_ n: Int) -> Int {
    let incrementer = makeIncrementer()
    var x = 0
    for _ in 0..<n { x = incrementer.inc(x) }
    return x
}

@inline(never) func measureTyped(_ inc: ExternalFunction<Int, Int>, _ n: Int) throws -> Int {
    var x = 0
    for _ in 0..<n { x = try inc(x) }
    return x
}

@inline(never) func measureDynamic(_ exports: ExportTable, _ n: Int) throws -> Int {
    var x = 0
    for _ in 0..<n { x = try exports.call("calls", "inc", argument: .int(x)).intValue ?? 0 }
    return x
}

@inline(never) func measureArray(_ exports: ExportTable, _ n: Int) throws -> Int {
    var x = 0
    for _ in 0..<n { x = try exports.call("calls", "inc", [.int(x)]).intValue ?? 0 }
    return x
}

/// The async baseline of figure 1b: the same async function behind a protocol existential.
protocol AsyncIncrementing: Sendable { func inc(_ x: Int) async throws -> Int }
struct AsyncIncrementer: AsyncIncrementing { func inc(_ x: Int) async throws -> Int { x &+ 1 } }
struct AsyncDecrementer: AsyncIncrementing { func inc(_ x: Int) async throws -> Int { x &- 1 } }

@inline(never) func makeAsyncIncrementer() -> any AsyncIncrementing {
    CommandLine.arguments.contains("--never") ? AsyncDecrementer() : AsyncIncrementer()
}

@inline(never) func measureDirectAsync(_ n: Int) async throws -> Int {
    let incrementer = makeAsyncIncrementer()
    var x = 0
    for _ in 0..<n { x = try await incrementer.inc(x) }
    return x
}

@inline(never) func measureAsync(_ inc: AsyncExternalFunction<Int, Int>, _ n: Int) async throws -> Int {
    var x = 0
    for _ in 0..<n { x = try await inc(x) }
    return x
}

/// Runs `body` on the concurrency pool while this thread waits for its
/// result. Top-level `await` would hand the main thread to the pool for good
/// (dispatch_main), where valgrind 3.19 fails.
func waiting<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Outcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { outcome.result = .success(try await body()) } catch { outcome.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// What `waiting`'s task hands back, written before the semaphore is signalled.
final class Outcome<T>: @unchecked Sendable { var result: Result<T, any Error>? }

/// Loads each version after the first, as a deploy's commit does.
@inline(never) func measureSwaps(_ server: CodeServer, _ paths: [String]) throws -> Int {
    for path in paths.dropFirst() { _ = try server.load([path]) }
    return paths.count - 1
}

/// The versions the swap kind builds, loading N of them.
let swapVersionsBuilt = 33

/// `count` + 1 versions of a one-function module, each answering its number.
func swapVersions(_ fixture: Fixture, _ count: Int) throws -> [String] {
    try (0...count).map { n in
        try fixture.write(module: "spin", """
            import Hot
            let module = HotModule(exports: [.function("version", version)])
            func version(_ probe: Int) -> Int { \(n) }
            """)
        return try fixture.build("spin", release: false)
    }
}

@inline(never) func measureString(_ exports: ExportTable, _ n: Int) throws -> Int {
    let text = String(repeating: "x", count: 1024)
    var total = 0
    for _ in 0..<n { total &+= try exports.call("calls", "echo", argument: .string(text)).stringValue?.utf8.count ?? 0 }
    return total
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let n = Int(arguments[2]) else {
    print("usage: callcount direct|typed|dynamic|array|string|directasync|async|swap N")
    exit(2)
}
do {
    let result: Int
    if arguments[1] == "direct" {
        result = measureDirect(n)
    } else if arguments[1] == "directasync" {
        result = try waiting { try await measureDirectAsync(n) }
    } else if arguments[1] == "swap" {
        // As many versions built whatever N is, so that two runs differ
        // only by the swaps.
        guard n <= swapVersionsBuilt else {
            print("callcount: swap N is at most \(swapVersionsBuilt)")
            exit(2)
        }
        let fixture = try Fixture()
        let paths = try swapVersions(fixture, swapVersionsBuilt)
        _ = try fixture.node.codeServer.load([paths[0]])
        result = try measureSwaps(fixture.node.codeServer, Array(paths[0...n]))
    } else {
        let fixture = try Fixture()
        try fixture.write(module: "calls", """
            import Hot
            let module = HotModule(exports: [.function("inc", inc), .function("echo", echo), .function("ainc", ainc)])
            func inc(_ x: Int) -> Int { x &+ 1 }
            @Sendable func ainc(_ x: Int) async throws -> Int { x &+ 1 }
            func echo(_ s: String) -> String { s }
            """)
        _ = try fixture.node.codeServer.load([try fixture.build("calls")])
        let exports = fixture.node.codeServer.exports
        switch arguments[1] {
        case "typed": result = try measureTyped(exports.function("calls", "inc", ((Int) throws -> Int).self), n)
        case "dynamic": result = try measureDynamic(exports, n)
        case "array": result = try measureArray(exports, n)
        case "async":
            let inc = try fixture.node.function("calls", "ainc", ((Int) async throws -> Int).self)
            result = try waiting { try await measureAsync(inc, n) }
        default: result = try measureString(exports, n)
        }
    }
    print(arguments[1], n, result)
} catch {
    print("callcount: \(error)")
    exit(1)
}
