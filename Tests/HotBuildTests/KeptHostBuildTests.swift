#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HotPlatform
import HotProject
import Testing

@testable import HotBuild

/// The host builds `hot build` keeps for apps that still run them after a
/// rebuild (docs/ARCHITECTURE.md, "Host modules", kept builds).
@Suite struct KeptHostBuildTests {
    /// A host build whose one module, Shared, is the file `module`.
    private func build(_ fingerprint: String, module: String) -> HostBuild {
        HostBuild(
            fingerprint: fingerprint, executable: "/p/server", modules: ["Shared": module], clangFlags: ["-Xcc", "-DX"],
            modulesDirectory: "/unused", stamp: "s")
    }

    private func text(_ path: String) -> String? { readFile(path).map { String(decoding: $0, as: UTF8.self) } }

    @Test("a kept build keeps its modules when the build folder writes them anew, and the newest four are kept")
    func keepsAndPrunes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kept-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: root + "/.build", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = ProjectLayout(root: root, name: "t").host
        let module = root + "/.build/Shared.swiftmodule"

        var fingerprints: [String] = []
        for n in 0..<6 {
            // The build folder writes the module anew each build, as swift build does: a new file renamed into place.
            try writeFileAtomically(module, Array("module of build \(n)".utf8))
            let fingerprint = String(repeating: "\(n)", count: 40)
            fingerprints.append(fingerprint)
            try build(fingerprint, module: module).keep(files)
            // Kept once: keeping it again changes nothing.
            try build(fingerprint, module: module).keep(files)
        }
        let kept = listDirectory(files.keptDirectory).sorted()
        #expect(kept == fingerprints.suffix(4).sorted(), "\(kept)")
        for n in 2..<6 {
            let found = try #require(HostBuild.kept(fingerprints[n], in: files))
            #expect(found.fingerprint == fingerprints[n] && found.clangFlags == ["-Xcc", "-DX"])
            #expect(found.modulesDirectory == files.kept(fingerprints[n]) + "/Modules")
            #expect(text(found.modulesDirectory + "/Shared.swiftmodule") == "module of build \(n)")
        }
        #expect(HostBuild.kept(fingerprints[0], in: files) == nil)
        #expect(HostBuild.kept(String(repeating: "f", count: 40), in: files) == nil)
    }
}
