import HotPlatform
import HotProject
import Testing

@testable import HotAdopt

/// Package.swift's edits, on manifests as strings.
@Suite struct ManifestEditTests {
    static let hotPackage = "/opt/src/Hot-Main"
    static let identity = "hot-main"

    private func edit(_ manifest: String, module: String = "routes") throws -> ManifestEdit {
        try ManifestEdit.edit(manifest, module: module, hotPackage: Self.hotPackage, identity: Self.identity)
    }

    /// The shape of Hummingbird's examples: tools 5.9, an executable product,
    /// `.executableTarget` with `path:` and no linker settings, a test target.
    static let examples = """
        // swift-tools-version:5.9
        import PackageDescription

        let package = Package(
            name: "todos",
            platforms: [.macOS(.v14)],
            products: [
                .executable(name: "Server", targets: ["App"]),
            ],
            dependencies: [
                .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.4.0"),
                .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
            ],
            targets: [
                .executableTarget(
                    name: "App",
                    dependencies: [
                        .product(name: "ArgumentParser", package: "swift-argument-parser"),
                        .product(name: "Hummingbird", package: "hummingbird"),
                    ],
                    path: "Sources/App"
                ),
                .testTarget(
                    name: "AppTests",
                    dependencies: [
                        .byName(name: "App"),
                        .product(name: "HummingbirdTesting", package: "hummingbird")
                    ],
                    path: "Tests/AppTests"
                ),
            ]
        )

        """

    @Test func examplesShape() throws {
        let edited = try edit(Self.examples)
        #expect(edited.target == "App")
        #expect(edited.targetPath == "Sources/App")
        #expect(edited.product == "Server")
        #expect(
            edited.text == """
                // swift-tools-version:6.1
                import PackageDescription

                \(PatchableSetting.declaration)

                let package = Package(
                    name: "todos",
                    platforms: [.macOS(.v14)],
                    products: [
                        .executable(name: "Server", targets: ["App"]),
                    ],
                    dependencies: [
                        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.4.0"),
                        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
                        .package(path: "/opt/src/Hot-Main", traits: ["Hummingbird"]),
                    ],
                    targets: [
                        .executableTarget(
                            name: "App",
                            dependencies: [
                                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                .product(name: "Hummingbird", package: "hummingbird"),
                                "routes",
                                .product(name: "HotNode", package: "hot-main"),
                                .product(name: "HotLifecycle", package: "hot-main"),
                                .product(name: "HotHummingbird", package: "hot-main"),
                            ],
                            path: "Sources/App",
                            swiftSettings: patchable,
                            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]
                        ),
                        .testTarget(
                            name: "AppTests",
                            dependencies: [
                                .byName(name: "App"),
                                .product(name: "HummingbirdTesting", package: "hummingbird")
                            ],
                            path: "Tests/AppTests"
                        ),
                        .target(
                            name: "routes",
                            dependencies: [.product(name: "Hot", package: "hot-main"), .product(name: "Hummingbird", package: "hummingbird")],
                            path: "modules/routes",
                            plugins: [.plugin(name: "HotModuleEntry", package: "hot-main")]),
                    ],
                    swiftLanguageModes: [.v5]
                )

                """)
        // Idempotent: the edited manifest needs nothing more.
        #expect(try edit(edited.text).text == edited.text)
    }

    /// Existing linker settings take the flag beside theirs; a 6.1 package keeps its version and mode.
    @Test func existingLinkerSettings() throws {
        let manifest = """
            // swift-tools-version:6.1
            import PackageDescription

            let package = Package(
                name: "shop",
                dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1")],
                targets: [
                    .executableTarget(
                        name: "Shop", dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
                        linkerSettings: [.linkedLibrary("z")], plugins: []),
                ]
            )
            """
        let edited = try edit(manifest, module: "api").text
        #expect(edited.hasPrefix("// swift-tools-version:6.1\n"))
        #expect(!edited.contains("swiftLanguageModes"))
        #expect(edited.contains(#"linkerSettings: [.linkedLibrary("z"), .unsafeFlags(["-Xlinker", "--export-dynamic"])], plugins: []"#), "\(edited)")
        #expect(edited.contains(#"dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"), .package(path: "/opt/src/Hot-Main", traits: ["Hummingbird"])]"#), "\(edited)")
        #expect(edited.contains(#"dependencies: [.product(name: "Hummingbird", package: "hummingbird"), "api", .product(name: "HotNode", package: "hot-main"), "#), "\(edited)")
        #expect(edited.contains(#"path: "modules/api","#))
        #expect(try edit(edited, module: "api").text == edited)
    }

    /// Linker settings held in a constant get the flag added to it; 6.0 stays Swift 6.
    @Test func linkerSettingsInAConstantAndNoDependencies() throws {
        let manifest = """
            // swift-tools-version: 6.0
            import PackageDescription

            let flags: [LinkerSetting] = []
            let package = Package(
                name: "shop",
                dependencies: [
                    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0")
                ],
                targets: [
                    .executableTarget(name: "Shop", path: "Sources", linkerSettings: flags)
                ]
            )
            """
        let edited = try edit(manifest).text
        #expect(edited.hasPrefix("// swift-tools-version:6.1\n"))
        #expect(!edited.contains("swiftLanguageModes"), "a 6.0 package is in Swift 6 already")
        #expect(edited.contains(#".executableTarget(name: "Shop", dependencies: ["routes", .product(name: "HotNode", package: "hot-main"), "#), "\(edited)")
        #expect(edited.contains(#"path: "Sources", swiftSettings: patchable, linkerSettings: flags + [.unsafeFlags(["-Xlinker", "--export-dynamic"])])"#), "\(edited)")
        #expect(edited.contains("""
                    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
                    .package(path: "/opt/src/Hot-Main", traits: ["Hummingbird"])
                ],
            """), "\(edited)")
        #expect(try edit(edited).text == edited)
    }

    /// Every own target of the app takes the patchable setting: after the
    /// settings it has, or as its own argument; the module's target and the
    /// test targets do not, and a manifest declaring `patchable` keeps its own.
    @Test func patchableOnTheAppsOwnTargets() throws {
        let manifest = """
            // swift-tools-version:6.1
            import PackageDescription

            // The settings every target shares.
            let patchable: [SwiftSetting] = [.define("PATCHABLE")]
            let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
            let package = Package(
                name: "shop",
                dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1")],
                targets: [
                    .target(name: "Model", swiftSettings: strict),
                    .target(name: "Store", dependencies: ["Model"], swiftSettings: [.define("STORE")], plugins: []),
                    .target(name: "Views", path: "Sources/Views"),
                    .executableTarget(
                        name: "Shop", dependencies: ["Model", "Store", .product(name: "Hummingbird", package: "hummingbird")],
                        swiftSettings: patchable),
                    .testTarget(name: "ShopTests", dependencies: ["Shop"]),
                ]
            )
            """
        let edited = try edit(manifest).text
        #expect(!edited.contains("[SwiftSetting] = [\n"), "a manifest declaring patchable keeps its own: \(edited)")
        #expect(edited.contains(#".target(name: "Model", swiftSettings: strict + patchable),"#), "\(edited)")
        #expect(edited.contains(#".target(name: "Store", dependencies: ["Model"], swiftSettings: [.define("STORE")] + patchable, plugins: []),"#), "\(edited)")
        #expect(edited.contains(#".target(name: "Views", path: "Sources/Views", swiftSettings: patchable),"#), "\(edited)")
        #expect(edited.contains("swiftSettings: patchable,\n"), "the app's own setting is left as it was: \(edited)")
        #expect(edited.contains(#".testTarget(name: "ShopTests", dependencies: ["Shop"]),"#), "\(edited)")
        #expect(!edited.contains("patchable + patchable"))
        #expect(try edit(edited).text == edited)

        // Without a declaration, the setting is declared just above the package.
        let plain = manifest.replacingOccurrences(of: "let patchable: [SwiftSetting] = [.define(\"PATCHABLE\")]\n", with: "")
        let declared = try edit(plain).text
        #expect(declared.contains(#"[.enableUpcomingFeature("ExistentialAny")]"# + "\n\n\(PatchableSetting.declaration)\n\nlet package"), "\(declared)")
        #expect(declared.contains(#"swiftSettings: patchable,"#))
        #expect(try edit(declared).text == declared)
    }

    /// Each app template's Package.swift declares the setting as `hot adopt`
    /// writes it, with the flags a build description is read for.
    @Test(arguments: ["hummingbird", "vapor"])
    func templateDeclaresTheSameSetting(template: String) throws {
        let root = parentDirectory(parentDirectory(parentDirectory(#filePath)))
        let text = String(decoding: try #require(readFile(root + "/templates/\(template)/Package.swift")), as: UTF8.self)
        #expect(text.contains(PatchableSetting.declaration))
    }

    /// The shape `vapor new` gives (tools 6.0, one executable target named
    /// App with its settings in a computed `swiftSettings`, no products):
    /// the manifest of the Vapor app the end-to-end test adopts.
    static var vaporShape: String {
        get throws {
            let root = parentDirectory(parentDirectory(parentDirectory(#filePath)))
            return String(decoding: try #require(readFile(root + "/Tests/Fixtures/VaporNotesApp/Package.swift")), as: UTF8.self)
        }
    }

    @Test func vaporShape() throws {
        let manifest = try Self.vaporShape
        let edited = try edit(manifest)
        #expect(edited.framework == .vapor)
        #expect(edited.target == "App" && edited.targetPath == "Sources/App" && edited.product == "App")
        let text = edited.text
        #expect(text.hasPrefix("// swift-tools-version:6.1\n"), "\(text)")
        #expect(text.contains(#".package(path: "/opt/src/Hot-Main", traits: ["Vapor"]),"#), "\(text)")
        #expect(!text.contains("Hummingbird") && !text.contains("HotLifecycle"), "\(text)")
        #expect(
            text.contains("""
                                .product(name: "Vapor", package: "vapor"),
                                "routes",
                                .product(name: "HotNode", package: "hot-main"),
                                .product(name: "HotVapor", package: "hot-main"),
                            ],
                            swiftSettings: swiftSettings + patchable,
                            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]
                """), "\(text)")
        #expect(
            text.contains(#"dependencies: [.product(name: "Hot", package: "hot-main"), .product(name: "Vapor", package: "vapor")],"#),
            "the module imports Vapor: \(text)")
        #expect(text.contains(PatchableSetting.declaration + "\n\n// A notes service"), "above the package and its comment: \(text)")
        // The test target is not the app's: it keeps its settings.
        #expect(text.components(separatedBy: "swiftSettings: swiftSettings\n").count == 2, "\(text)")
        #expect(try edit(text).text == text, "a second edit changes nothing")

        // A package with both frameworks: the one its app's target depends on.
        let vapor = #".package(url: "https://github.com/vapor/vapor.git", from: "4.115.0"),"#
        let both = manifest.replacing(vapor, with: vapor + #".package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),"#)
        try #require(both != manifest)
        #expect(try edit(both).framework == .vapor)
        let neither = both.replacing(#".product(name: "Vapor", package: "vapor"),"#, with: "")
        #expect(throws: AdoptError.executable("the app's executable target depends on neither of Hummingbird and Vapor; hot adopt wires one")) {
            try edit(neither)
        }
    }

    @Test func refusals() {
        #expect(throws: AdoptError.noFramework) {
            try edit("""
                // swift-tools-version:6.1
                import PackageDescription
                let package = Package(name: "x", dependencies: [], targets: [.executableTarget(name: "x")])
                """)
        }
        #expect(throws: AdoptError.noToolsVersion) {
            try edit("""
                import PackageDescription
                let package = Package(name: "x", dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0")], targets: [.executableTarget(name: "x")])
                """)
        }
        #expect(throws: AdoptError.executable("no .executableTarget in targets: [...]")) {
            try edit("""
                // swift-tools-version:6.1
                import PackageDescription
                let package = Package(name: "x", dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0")], targets: [.target(name: "x")])
                """)
        }
        #expect(throws: AdoptError.moduleName("the package already has a target named routes (not in modules/routes); pick another name with --module")) {
            try edit("""
                // swift-tools-version:6.1
                import PackageDescription
                let package = Package(name: "x", dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0")], targets: [.executableTarget(name: "x"), .target(name: "routes")])
                """)
        }
        #expect(throws: AdoptError.manifestShape("Package(...) has no `targets: [...]` array")) {
            try edit("""
                // swift-tools-version:6.1
                import PackageDescription
                let package = Package(name: "x", dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0")])
                """)
        }
        for error in [AdoptError.noFramework, .noToolsVersion, .executable("two"), .manifestShape("m")] {
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func identities() {
        #expect(ManifestEdit.identity(of: "https://github.com/hummingbird-project/hummingbird.git") == "hummingbird")
        #expect(ManifestEdit.identity(of: "/home/me/src/Hot") == "hot")
        #expect(ManifestEdit.identity(of: "../hot-checkout/") == "hot-checkout")
    }
}
