// swift-tools-version:6.1
import PackageDescription

// A Vapor app that is a Hot node: its route handlers live in modules/routes,
// are built into the app by `swift build`, and are swapped while the app
// serves.

/// Hot modules bind to the process's own copy of every library when they are
/// loaded: its symbols must be visible to them.
let exportDynamic: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--export-dynamic"])]

/// The app's own code can be patched while it runs: `hot watch` replaces the
/// functions, methods and computed properties you edit in Sources/ in the
/// running app. Debug builds only; a release build is compiled as usual.
let patchable: [SwiftSetting] = [
    .unsafeFlags(
        ["-enable-testing", "-Xfrontend", "-enable-implicit-dynamic", "-Xfrontend", "-enable-private-imports"],
        .when(configuration: .debug))
]

let package = Package(
    name: "{{name}}",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "Server", targets: ["Server"])],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        // The Vapor trait builds Hot's Vapor adapter.
        .package(path: "{{hot_package}}", traits: ["Vapor"]),
    ],
    targets: [
        // Types both sides use: the app and every version of its modules.
        .target(name: "Shared", dependencies: [.product(name: "Vapor", package: "vapor")], swiftSettings: patchable),
        // The routes module, built in: `swift build` links it into the app as
        // its version 0; `hot deploy` loads newer versions over it.
        .target(
            name: "routes",
            dependencies: ["Shared", .product(name: "Hot", package: "{{hot_identity}}"), .product(name: "Vapor", package: "vapor")],
            path: "modules/routes",
            plugins: [.plugin(name: "HotModuleEntry", package: "{{hot_identity}}")]),
        // The app: its routes and its node (`configure`).
        .target(
            name: "App",
            dependencies: [
                "Shared", "routes",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "HotNode", package: "{{hot_identity}}"),
                .product(name: "HotVapor", package: "{{hot_identity}}"),
            ],
            swiftSettings: patchable),
        // The executable that runs it: hot.json's "host".
        .executableTarget(
            name: "Server",
            dependencies: ["App", .product(name: "HotNode", package: "{{hot_identity}}"), .product(name: "Vapor", package: "vapor")],
            swiftSettings: patchable,
            linkerSettings: exportDynamic),
        // The app's tests, which run its hot routes in-process.
        .testTarget(
            name: "AppTests",
            dependencies: ["App", .product(name: "VaporTesting", package: "vapor")],
            linkerSettings: exportDynamic),
    ]
)
