#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import Hot
import HotNode

// Figure 1's profile: runs one kind of call N times in a function of its own,
// so that callgrind, collecting only inside that function, counts the
// instructions a call costs. Usage:
//   HOT_BIN=<release build folder> valgrind --tool=callgrind --collect-atstart=no \
//     --toggle-collect='*measure*' callcount direct|typed|dynamic|array|string N

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

@inline(never) func measureString(_ exports: ExportTable, _ n: Int) throws -> Int {
    let text = String(repeating: "x", count: 1024)
    var total = 0
    for _ in 0..<n { total &+= try exports.call("calls", "echo", argument: .string(text)).stringValue?.utf8.count ?? 0 }
    return total
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let n = Int(arguments[2]) else {
    print("usage: callcount direct|typed|dynamic|array|string N")
    exit(2)
}
do {
    let result: Int
    if arguments[1] == "direct" {
        result = measureDirect(n)
    } else {
        let fixture = try Fixture()
        try fixture.write(module: "calls", """
            import Hot
            let module = HotModule(exports: [.function("inc", inc), .function("echo", echo)])
            func inc(_ x: Int) -> Int { x &+ 1 }
            func echo(_ s: String) -> String { s }
            """)
        _ = try fixture.node.codeServer.load([try fixture.build("calls")])
        let exports = fixture.node.codeServer.exports
        switch arguments[1] {
        case "typed": result = try measureTyped(exports.function("calls", "inc", ((Int) throws -> Int).self), n)
        case "dynamic": result = try measureDynamic(exports, n)
        case "array": result = try measureArray(exports, n)
        default: result = try measureString(exports, n)
        }
    }
    print(arguments[1], n, result)
} catch {
    print("callcount: \(error)")
    exit(1)
}
