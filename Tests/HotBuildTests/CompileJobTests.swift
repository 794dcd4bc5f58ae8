import Hot
import HotPlatform
import Testing
@testable import HotBuild

/// The swiftc invocation as a value: what one version's build runs.
@Suite("CompileJob")
struct CompileJobTests {
    static let key = "0123456789abcdef" + String(repeating: "0", count: 48)
    static let toolchain = Toolchain(swiftc: "/usr/bin/swiftc", version: "6.3.1", sdkModules: "/opt/hot/Modules")

    static func job(module: String = "chat", version: Int = 3, flags: [String] = [], release: Bool = false,
                    commit: String? = "abc+dirty") -> CompileJob {
        CompileJob(
            module: module, version: version, key: key, sources: ["/p/modules/\(module)/a.swift", "/p/shared/s.swift"],
            buildDirectory: "/p/.hot/build", toolchain: toolchain, flags: flags, release: release, commit: commit)
    }

    @Test("the whole invocation: a library of one module per version, against the SDK, into a temporary file")
    func arguments() {
        let job = Self.job(flags: ["-D", "TRACE"])
        #expect(job.arguments == [
            "-emit-library", "-parse-as-library", "-swift-version", "6", "-wmo", "-module-name", "chat_v3",
            "-I", "/opt/hot/Modules", "-Onone", "-Xlinker", "-z", "-Xlinker", "now", "-D", "TRACE",
            "/p/modules/chat/a.swift", "/p/shared/s.swift", "/p/.hot/build/chat/.entry.v3.swift",
            "-o", "/p/.hot/build/chat/.chat.v3-0123456789ab.so.tmp",
        ])
    }

    @Test("--release compiles with -O instead of -Onone")
    func release() {
        let debug = Self.job().arguments
        let release = Self.job(release: true).arguments
        #expect(debug.contains("-Onone") && !debug.contains("-O"))
        #expect(release.contains("-O") && !release.contains("-Onone"))
        #expect(debug.filter { $0 != "-Onone" } == release.filter { $0 != "-O" }, "nothing else differs")
    }

    @Test("each version is its own Swift module (docs/ARCHITECTURE.md, Facts: name-per-version)")
    func moduleNamePerVersion() {
        func moduleName(_ job: CompileJob) -> String? {
            job.arguments.firstIndex(of: "-module-name").map { job.arguments[$0 + 1] }
        }
        #expect(moduleName(Self.job(version: 3)) == "chat_v3")
        #expect(moduleName(Self.job(version: 4)) == "chat_v4")
    }

    @Test("the SDK is found by -I and never linked (docs/ARCHITECTURE.md, Facts: one-SDK)")
    func sdkNotLinked() {
        let arguments = Self.job().arguments
        #expect(!arguments.contains { $0.hasPrefix("-l") || $0.hasPrefix("-L") || $0.hasSuffix(".so") })
        #expect(arguments.firstIndex(of: "-I").map { arguments[$0 + 1] } == "/opt/hot/Modules")
    }

    @Test("paths: a file per version, written hidden and renamed into place (Facts: file-per-version)")
    func paths() throws {
        let job = Self.job()
        #expect(job.output == "/p/.hot/build/chat/chat.v3-0123456789ab.so")
        #expect(job.temporaryOutput == "/p/.hot/build/chat/.chat.v3-0123456789ab.so.tmp")
        #expect(job.entryFile == "/p/.hot/build/chat/.entry.v3.swift")
        let name = try #require(ArtifactName(fileName: lastPathComponent(job.output)))
        #expect(name.module == "chat" && name.version == 3 && name.keyPrefix == "0123456789ab")
        #expect(Self.job(version: 4).output != job.output)
    }

    @Test("the entry embeds the descriptor, which reads back whole, escapes and all")
    func entryDescriptor() throws {
        let job = Self.job()
        let expected = ModuleDescriptor(
            abi: HotSDK.abiVersion, sdk: HotSDK.fingerprint, compiler: "6.3.1", name: "chat", version: 3, key: Self.key,
            commit: "abc+dirty")
        #expect(ModuleDescriptor(parsing: try embeddedText(job.entrySource)) == expected)
        #expect(job.entrySource.contains("@_cdecl(\"hot_module_descriptor\")"))
        #expect(job.entrySource.contains("@_cdecl(\"hot_module_entry\")"))

        // A field holding a quote, a backslash or a newline still makes one valid literal.
        var odd = expected
        odd.commit = "a\"b\\c"
        #expect(try embeddedText(odd.entrySource) == odd.render())
    }

    /// The text of the entry's `StaticString` literal, unescaped.
    private func embeddedText(_ source: String) throws -> String {
        let marker = "let text: StaticString = \""
        let start = try #require(source.range(of: marker)).upperBound
        var text = ""
        var escaped = false
        for c in source[start...] {
            if escaped {
                text.append(c == "n" ? "\n" : c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return text
            } else {
                text.append(c)
            }
        }
        Issue.record("unterminated literal")
        return text
    }
}
