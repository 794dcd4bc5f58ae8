// swift-tools-version:6.0
import PackageDescription

// The node executable exports its symbols so that a hot module, compiled
// against Hot.swiftmodule without linking the SDK, binds to the node's one
// copy of `Hot` at dlopen time (DESIGN.md, fact 6).
let exportDynamic: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--export-dynamic"])]

let package = Package(
    name: "Hot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hot", targets: ["hot"]),
        .executable(name: "hotnode", targets: ["hotnode"]),
        .library(name: "Hot", targets: ["Hot"]),
        .library(name: "HotNode", targets: ["HotNode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .target(name: "Hot"),
        .target(
            name: "HotWire",
            dependencies: ["Hot", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "HotNode",
            dependencies: ["Hot", "HotWire", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "HotBuild", dependencies: ["CLibGit2", "Hot", "HotWire"]),
        .target(name: "HotDeploy", dependencies: ["HotWire"]),
        .executableTarget(name: "hot", dependencies: ["HotBuild", "HotDeploy", "HotWire"]),
        .executableTarget(name: "hotnode", dependencies: ["HotNode"], linkerSettings: exportDynamic),
        .testTarget(name: "HotTests", dependencies: ["Hot", "HotWire"]),
        .testTarget(name: "HotWireTests", dependencies: ["HotWire"]),
        .testTarget(name: "HotNodeTests", dependencies: ["HotNode"]),
        .testTarget(name: "HotBuildTests", dependencies: ["HotBuild"]),
        .testTarget(name: "HotDeployTests", dependencies: ["HotDeploy", "HotWire"]),
        .testTarget(name: "hotTests", dependencies: ["hot"]),
        .testTarget(name: "EndToEndTests", dependencies: ["hot", "hotnode", "HotWire", "HotDeploy", "HotBuild"]),
    ]
)

// The libFuzzer target of the control protocol (scripts/fuzz.sh, `make fuzz`).
// It exists only when HOT_FUZZ is set: it has no main of its own (libFuzzer
// brings one), so a plain `swift build` must never see it.
if Context.environment["HOT_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "HotWireFuzz", dependencies: ["Hot", "HotWire"], path: "Fuzz/HotWireFuzz",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
