#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Testing

@testable import HotBuild

/// The compiler's `--version` is read up to a bound.
@Suite("Toolchain: the compiler's version")
struct ToolchainVersionTests {
    @Test("a compiler that prints a megabyte before its version line: what is kept stays within the bound")
    func outputIsBounded() throws {
        var template = Array("/tmp/hot-toolchain-XXXXXX".utf8CString)
        let folder = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer { removeTree(folder) }
        let swiftc = folder + "/swiftc"
        try writeFileAtomically(swiftc, Array("#!/bin/sh\nprintf '%*s' 1000000 '' | tr ' ' x\necho\necho 'Swift version 6.2 (swift-6.2-RELEASE)'\n".utf8))
        chmod(swiftc, 0o755)
        var kept: String?
        do throws(Toolchain.Failure) {
            let version = try Toolchain.askVersion(swiftc)
            Issue.record("read \(version), past the bound")
        } catch {
            if case .unknownVersion(_, let output) = error { kept = output }
        }
        let output = try #require(kept)
        #expect(output.utf8.count <= Toolchain.versionOutputLimit, "kept \(output.utf8.count) bytes")
    }
}
