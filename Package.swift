// swift-tools-version:6.1
import PackageDescription

// The node executable exports its symbols so that a hot module, compiled
// against Hot.swiftmodule without linking the SDK, binds to the node's one
// copy of `Hot` at dlopen time (docs/ARCHITECTURE.md, "Fact: one-SDK").
let exportDynamic: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--export-dynamic"])]

let package = Package(
    name: "Hot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hot", targets: ["hot"]),
        .executable(name: "hotnode", targets: ["hotnode"]),
        .library(name: "Hot", targets: ["Hot"]),
        .library(name: "HotNode", targets: ["HotNode"]),
        .library(name: "HotLifecycle", targets: ["HotLifecycle"]),
        .library(name: "HotHummingbird", targets: ["HotHummingbird"]),
        .library(name: "HotVapor", targets: ["HotVapor"]),
        // A host's package applies it to each hot module it also builds as a
        // target of its own: the module's built-in version (docs/EMBEDDING.md).
        .plugin(name: "HotModuleEntry", targets: ["HotModuleEntry"]),
    ],
    // A server that embeds a node turns this on to get `HotLifecycle` (the
    // node as a swift-service-lifecycle `Service`) and `HotHummingbird` (route
    // handlers and middleware that reach a module's current version). Off,
    // neither package is fetched into the build, so the core never depends on them.
    traits: [
        .trait(name: "Hummingbird", description: "The node as a ServiceLifecycle service, and the Hummingbird adapter"),
        .trait(name: "Vapor", description: "The node as a Vapor lifecycle handler, and the Vapor adapter"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        // The parser behind `hot build`'s checks (HotCheck); pinned, because
        // its syntax tree's shape changes between releases.
        .package(url: "https://github.com/swiftlang/swift-syntax.git", exact: "603.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .target(name: "Hot"),
        // The few glibc calls Swift's Glibc module hides, out of line.
        .target(name: "CHotPlatform"),
        // Files, processes, threads, clocks, system errors, hex, digests and
        // JSON: what every layer above needs from the system, and no protocol.
        .target(
            name: "HotPlatform",
            dependencies: [
                "CHotPlatform", "Hot",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The control protocol alone: frames, terms, handshake, session, transport, replies.
        .target(
            name: "HotWire",
            dependencies: [
                "CHotPlatform", "Hot", "HotPlatform", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // A project's one home: hot.json's schema, every path under .hot/,
        // and hotnode's flags as one value that renders and parses.
        .target(name: "HotProject", dependencies: ["Hot", "HotPlatform", "HotWire"]),
        .target(
            name: "HotNode",
            dependencies: [
                "CHotPlatform", "Hot", "HotDeploy", "HotPlatform", "HotProject", "HotWire", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The node in a server's own process, as a `Service`; empty unless the trait is on.
        .target(
            name: "HotLifecycle",
            dependencies: [
                "HotNode",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["Hummingbird"])),
            ]),
        // Hummingbird routes and middleware forwarding to hot modules; empty unless the trait is on.
        .target(
            name: "HotHummingbird",
            dependencies: [
                "HotNode",
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Hummingbird"])),
            ]),
        // Vapor routes, middleware and a responder forwarding to hot modules,
        // and the node as the app's lifecycle handler; empty unless the trait is on.
        .target(
            name: "HotVapor",
            dependencies: [
                "HotNode", "HotPlatform",
                .product(name: "Vapor", package: "vapor", condition: .when(traits: ["Vapor"])),
            ]),
        // What `hot build` warns about in a module's sources, found in their
        // syntax tree (docs/ARCHITECTURE.md, "Build checks"). Only the CLI's
        // side links swift-syntax: the node and the SDK never see it.
        .target(
            name: "HotCheck",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"), .product(name: "SwiftParser", package: "swift-syntax"),
            ]),
        // What `hot adopt` changes in an existing Hummingbird app's package to
        // make it a host, found and edited in its syntax tree (CLI side only).
        .target(
            name: "HotAdopt",
            dependencies: [
                "HotPlatform", "HotProject", .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftParser", package: "swift-syntax"),
            ]),
        // What `hot watch` makes of an edit to the host's own code: the
        // members that changed, found in the syntax tree, declared again as
        // dynamic replacements (docs/ARCHITECTURE.md, "Patching the host").
        .target(
            name: "HotPatch",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"), .product(name: "SwiftParser", package: "swift-syntax"),
            ]),
        .target(name: "HotBuild", dependencies: ["CLibGit2", "Hot", "HotCheck", "HotPatch", "HotPlatform", "HotProject"]),
        .target(
            name: "HotDeploy",
            dependencies: [
                "Hot", "HotPlatform", "HotProject", "HotWire", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // What the HotModuleEntry plugin runs: writes a built-in module's entry
        // and descriptor. `Hot` alone: SwiftPM builds a plugin's tool, and all
        // it depends on, again in every build.
        .executableTarget(name: "HotModuleEntryTool", dependencies: ["Hot"]),
        .plugin(name: "HotModuleEntry", capability: .buildTool(), dependencies: ["HotModuleEntryTool"]),
        .executableTarget(
            name: "hot", dependencies: ["Hot", "HotAdopt", "HotBuild", "HotCheck", "HotDeploy", "HotPatch", "HotPlatform", "HotProject", "HotWire"]),
        .executableTarget(
            name: "hotnode",
            dependencies: ["HotNode", "HotPlatform", "HotProject", "HotWire", .product(name: "Logging", package: "swift-log")],
            linkerSettings: exportDynamic),
        // Servers that embed a node, for the end-to-end tests: one linked as
        // a host must be, one without the flag.
        .executableTarget(
            name: "EmbeddedHostFixture", dependencies: ["Hot", "HotNode", "HotPlatform"], path: "Tests/Fixtures/EmbeddedHost",
            linkerSettings: exportDynamic),
        // A host with a built-in module, `greet`: a target of the package
        // through the plugin, as a host's Package.swift declares one. No test
        // target depends on it (`swift build --build-tests` builds it): the
        // test executable, which links the executables it depends on, would
        // otherwise carry `greet` too, and every node made in it boot it.
        .target(name: "greet", dependencies: ["Hot"], path: "Tests/Fixtures/BuiltinHost/modules/greet", plugins: ["HotModuleEntry"]),
        .executableTarget(
            name: "BuiltinHostFixture", dependencies: ["Hot", "HotNode", "HotPlatform", "greet"], path: "Tests/Fixtures/BuiltinHost/Host",
            linkerSettings: exportDynamic),
        .executableTarget(
            name: "UnexportedHostFixture", dependencies: ["HotNode", "HotPlatform"], path: "Tests/Fixtures/UnexportedHost"),
        .testTarget(name: "HotTests", dependencies: ["Hot", "HotPlatform"]),
        .testTarget(name: "HotPlatformTests", dependencies: ["Hot", "HotPlatform"]),
        .testTarget(name: "HotWireTests", dependencies: ["Hot", "HotPlatform", "HotWire"]),
        .testTarget(name: "HotProjectTests", dependencies: ["HotPlatform", "HotProject", "HotWire"]),
        .testTarget(
            name: "HotNodeTests",
            dependencies: [
                "Hot", "HotNode", "HotPlatform", "HotProject", "HotWire", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        .testTarget(name: "HotCheckTests", dependencies: ["HotCheck"]),
        .testTarget(name: "HotPatchTests", dependencies: ["HotPatch"]),
        .testTarget(name: "HotAdoptTests", dependencies: ["HotAdopt", "HotPlatform", "HotProject"]),
        .testTarget(name: "HotBuildTests", dependencies: ["Hot", "HotBuild", "HotCheck", "HotPlatform", "HotProject", "HotWire"]),
        .testTarget(name: "HotDeployTests", dependencies: ["Hot", "HotDeploy", "HotPlatform", "HotWire"]),
        .testTarget(name: "hotTests", dependencies: ["hot", "HotBuild", "HotPlatform", "HotProject", "HotWire"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "hot", "hotnode", "EmbeddedHostFixture", "UnexportedHostFixture", "Hot", "HotBuild", "HotDeploy", "HotPlatform", "HotWire",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
    ]
)

// The libFuzzer target of the control protocol (scripts/fuzz.sh, `make fuzz`).
// It exists only when HOT_FUZZ is set: it has no main of its own (libFuzzer
// brings one), so a plain `swift build` must never see it.
if Context.environment["HOT_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "HotWireFuzz", dependencies: ["Hot", "HotPlatform", "HotWire"], path: "Fuzz/HotWireFuzz",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
