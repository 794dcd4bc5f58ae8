// swift-tools-version:6.1
import PackageDescription

// A Hummingbird app that is a Hot node: its route handlers live in
// modules/routes and are swapped while the app serves.
let package = Package(
    name: "{{name}}",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // The Hummingbird trait builds Hot's Hummingbird adapter.
        .package(path: "{{hot_package}}", traits: ["Hummingbird"]),
    ],
    targets: [
        // Types both sides use: the app and every version of its modules.
        .target(name: "Shared", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(
            name: "App",
            dependencies: [
                "Shared",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HotNode", package: "{{hot_identity}}"),
                .product(name: "HotLifecycle", package: "{{hot_identity}}"),
                .product(name: "HotHummingbird", package: "{{hot_identity}}"),
            ],
            // Hot modules bind to the app's own copy of every library when
            // they are loaded: its symbols must be visible to them.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]),
    ]
)
