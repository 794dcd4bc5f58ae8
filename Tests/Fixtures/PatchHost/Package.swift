// swift-tools-version:6.1
import PackageDescription

// A plain executable that is a Hot host, for the end-to-end tests of
// patching a host's own code: a line server whose handlers are its own
// functions. The test writes it into a temporary folder, with Hot's package
// path in place of HOT_PACKAGE.

/// Debug builds of the app's own code can be patched by `hot watch`.
let patchable: [SwiftSetting] = [
    .unsafeFlags(["-enable-testing", "-Xfrontend", "-enable-implicit-dynamic", "-Xfrontend", "-enable-private-imports"], .when(configuration: .debug))
]

let package = Package(
    name: "shop",
    products: [.executable(name: "Shop", targets: ["Shop"])],
    dependencies: [.package(path: "HOT_PACKAGE")],
    targets: [
        .executableTarget(
            name: "Shop",
            dependencies: [.product(name: "HotNode", package: "HOT_IDENTITY")],
            path: "Sources/App",
            swiftSettings: patchable,
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]),
    ]
)
