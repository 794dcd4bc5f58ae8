import Foundation
import Testing

/// `hot init --template`: what it writes, and what a bad value leaves behind (nothing).
@Suite("hot init templates")
struct InitTemplateTests {
    @Test("the hummingbird template names Hot's package and its identity, and is a git repository")
    func hummingbirdTemplate() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let made = try scratch.hot(["init", "shop", "--template", "hummingbird"], in: "")
        try #require(made.status == 0, "\(made)")
        let manifest = try scratch.read("shop/Package.swift")
        // The source tree this hot was built in: the folder holding Sources/HotHummingbird.
        let package = try #require(manifest.firstMatch(of: /\.package\(path: "([^"]+)"/)?.1)
        #expect(FileManager.default.fileExists(atPath: package + "/Sources/HotHummingbird"))
        let identity = String(package.split(separator: "/").last ?? "").lowercased()
        #expect(manifest.contains("package: \"\(identity)\""), "\(manifest)")
        #expect(!manifest.contains("{{"), "every placeholder is filled: \(manifest)")
        #expect(try scratch.read("shop/hot.json").contains("\"product\": \"Server\""))
        #expect(try scratch.read("shop/.gitignore").contains(".build/"))
        #expect(FileManager.default.fileExists(atPath: scratch.path("shop/.git")))
        #expect(FileManager.default.fileExists(atPath: scratch.path("shop/modules/routes/routes.swift")))

        // hot start refuses: the project's node is its app.
        let started = try scratch.hot(["start"], in: "shop")
        #expect(started.status == 1, "\(started)")
        #expect(started.stderr.contains("swift build --product Server"), "\(started)")
    }

    @Test("the vapor template depends on Hot with its Vapor trait, and its app is the node")
    func vaporTemplate() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let made = try scratch.hot(["init", "shop", "--template", "vapor"], in: "")
        try #require(made.status == 0, "\(made)")
        let manifest = try scratch.read("shop/Package.swift")
        let package = try #require(manifest.firstMatch(of: /\.package\(path: "([^"]+)", traits: \["Vapor"\]\)/)?.1)
        #expect(FileManager.default.fileExists(atPath: package + "/Sources/HotVapor"))
        let identity = String(package.split(separator: "/").last ?? "").lowercased()
        #expect(manifest.contains(".product(name: \"HotVapor\", package: \"\(identity)\")"), "\(manifest)")
        #expect(!manifest.contains("{{"), "every placeholder is filled: \(manifest)")
        #expect(try scratch.read("shop/README.md").hasPrefix("# shop\n"))
        #expect(try scratch.read("shop/hot.json").contains("\"product\": \"Server\""))
        #expect(FileManager.default.fileExists(atPath: scratch.path("shop/.git")))
        #expect(try scratch.read("shop/modules/routes/routes.swift").contains("import Vapor"))

        let started = try scratch.hot(["start"], in: "shop")
        #expect(started.status == 1, "\(started)")
        #expect(started.stderr.contains("swift build --product Server"), "\(started)")
    }

    @Test("an unknown template or a folder that is not Hot's package: one line, nothing written")
    func badValues() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let unknown = try scratch.hot(["init", "a", "--template", "rails"], in: "")
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr.contains("project, hummingbird or vapor"), "\(unknown)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("a")))

        let notHot = try scratch.hot(["init", "b", "--template", "hummingbird", "--hot-package", scratch.root], in: "")
        #expect(notHot.status == 1, "\(notHot)")
        #expect(notHot.stderr.split(separator: "\n").count == 1, "\(notHot)")
        #expect(notHot.stderr.contains("not Hot's package"), "\(notHot)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("b")))
    }
}
