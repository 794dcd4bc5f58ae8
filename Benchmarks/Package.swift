// swift-tools-version:6.3
import PackageDescription

// The in-process benchmarks, a package of their own so that the product's
// package never resolves the benchmark harness. `make bench` runs them.
// Each executable exports its symbols, as a node does, so that the modules
// it loads bind to its one copy of the Hot SDK (docs/ARCHITECTURE.md, "Fact: one-SDK").
let exportDynamic: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--export-dynamic"])]

let package = Package(
    name: "HotBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Hot", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: []),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [.product(name: "Hot", package: "Hot"), .product(name: "HotNode", package: "Hot")],
            path: "Support"),
        .executableTarget(
            name: "ExternalCalls",
            dependencies: ["BenchSupport", .product(name: "Benchmark", package: "benchmark")],
            path: "ExternalCalls",
            linkerSettings: exportDynamic,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(name: "callcount", dependencies: ["BenchSupport"], path: "callcount", linkerSettings: exportDynamic),
        .executableTarget(name: "hotbench", dependencies: ["BenchSupport"], path: "hotbench", linkerSettings: exportDynamic),
        .executableTarget(name: "hotcurve", dependencies: ["BenchSupport"], path: "hotcurve", linkerSettings: exportDynamic),
        // A client of a real node (scripts/bench/watch.sh): HotWire comes with HotNode.
        .executableTarget(name: "watchprobe", dependencies: [.product(name: "HotNode", package: "Hot")], path: "watchprobe"),
    ]
)
