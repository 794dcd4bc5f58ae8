import Hot
import HotPlatform
import HotProject
import Testing
@testable import HotBuild

/// SwiftPM's build description read as values: a trimmed copy of the one
/// SwiftPM 6.3 wrote for a package with a C target, a library over it, an
/// unlinked library and an executable.
@Suite("BuildDescription")
struct BuildDescriptionTests {
    static let b = "/p/.build/x86_64-unknown-linux-gnu/debug"
    static let text = """
        client:
          name: basic
        targets:
          "main": ["<Shared-x86_64-unknown-linux-gnu-debug.module>"]
        default: "main"
        nodes:
          "/p/Sources/Shared/":
            is-directory-structure: true
        commands:
          "\(b)/CShared.build/cshared.c.o":
            tool: clang
            inputs: ["/p/Sources/CShared/cshared.c"]
            outputs: ["\(b)/CShared.build/cshared.c.o"]
            args: ["/opt/swift/usr/bin/clang","-I","/p/Sources/CShared/include","-c","/p/Sources/CShared/cshared.c","-o","\(b)/CShared.build/cshared.c.o"]

          "C.Other-x86_64-unknown-linux-gnu-debug.module":
            tool: shell
            inputs: ["/p/Sources/Other/Other.swift"]
            outputs: ["\(b)/Other.build/Other.swift.o","\(b)/Modules/Other.swiftmodule"]
            args: ["/opt/swift/usr/bin/swiftc","-module-name","Other","-emit-module","-emit-module-path","\(b)/Modules/Other.swiftmodule","-I","\(b)/Modules","-Xcc","-DOTHER_ONLY"]

          "C.Shared-x86_64-unknown-linux-gnu-debug.module":
            tool: shell
            inputs: ["/p/Sources/Shared/Shared.swift"]
            outputs: ["\(b)/Shared.build/Shared.swift.o","\(b)/Modules/Shared.swiftmodule"]
            description: "Compiling Swift Module 'Shared' (1 sources)"
            args: ["/opt/swift/usr/bin/swiftc","-module-name","Shared","-emit-module","-emit-module-path","\(b)/Modules/Shared.swiftmodule","-I","\(b)/Modules","-DSWIFT_PACKAGE","-Xcc","-fmodule-map-file=\(b)/CShared.build/module.modulemap","-Xcc","-I","-Xcc","/p/Sources/CShared/include","-Xcc","-DLEVEL=2","-swift-version","6","-Xcc","-fPIC","-Xcc","-g"]

          "C.server-x86_64-unknown-linux-gnu-debug.exe":
            tool: shell
            inputs: ["\(b)/CShared.build/cshared.c.o","\(b)/Shared.build/Shared.swift.o","\(b)/server.build/main.swift.o"]
            outputs: ["\(b)/server"]
            description: "Linking ./.build/x86_64-unknown-linux-gnu/debug/server"
            args: ["/opt/swift/usr/bin/swiftc","-L","\(b)","-o","\(b)/server","-module-name","server","-emit-executable","-Xlinker","--export-dynamic"]

          "C.server-x86_64-unknown-linux-gnu-debug.module":
            tool: shell
            inputs: ["/p/Sources/server/main.swift","\(b)/Modules/Shared.swiftmodule"]
            outputs: ["\(b)/server.build/main.swift.o","\(b)/Modules/server.swiftmodule"]
            args: ["/opt/swift/usr/bin/swiftc","-module-name","server","-emit-module","-emit-module-path","\(b)/Modules/server.swiftmodule","-Xcc","-fmodule-map-file=\(b)/CShared.build/module.modulemap","-Xcc","-I","-Xcc","/p/Sources/CShared/include"]

        """

    @Test func findsTheLinkCommandOfTheProduct() throws {
        let description = try BuildDescription(parsing: Self.text)
        #expect(description.commands.count == 5)
        let link = try #require(description.link(of: "server"))
        #expect(link.value(of: "-o") == "\(Self.b)/server")
        #expect(description.link(of: "serv") == nil)
        #expect(description.link(of: "Shared") == nil)
    }

    @Test func linkedModulesAreThoseWhoseObjectsTheProductLinks() throws {
        let description = try BuildDescription(parsing: Self.text)
        let modules = description.swiftModules(linkedBy: try #require(description.link(of: "server")))
        #expect(modules.map(\.name) == ["Shared", "server"])
        #expect(modules.map(\.path) == ["\(Self.b)/Modules/Shared.swiftmodule", "\(Self.b)/Modules/server.swiftmodule"])
    }

    @Test func clangFlagsAreTheImportFlagsOfTheLinkedModulesOnce() throws {
        let description = try BuildDescription(parsing: Self.text)
        let modules = description.swiftModules(linkedBy: try #require(description.link(of: "server")))
        #expect(BuildDescription.clangImportFlags(of: modules) == [
            "-Xcc", "-fmodule-map-file=\(Self.b)/CShared.build/module.modulemap",
            "-Xcc", "-I", "-Xcc", "/p/Sources/CShared/include",
            "-Xcc", "-DLEVEL=2",
        ])
    }

    @Test func anUnreadableListNamesItsLine() {
        let bad = "commands:\n  \"x\":\n    args: [\"a\",\n"
        #expect(throws: HostError.Reason.self) { try BuildDescription(parsing: bad) }
        do {
            _ = try BuildDescription(parsing: bad)
        } catch {
            #expect(error.line == 3)
        }
    }

    @Test func missingModulesAreReadFromTheCompilerOutput() {
        let output = """
            /p/modules/a/a.swift:2:8: error: no such module 'Other'
            2 | import Other
            /p/modules/a/b.swift:1:8: error: no such module 'NIOCore'
            /p/modules/a/c.swift:1:8: error: no such module 'Other'
            """
        #expect(HostBuild.missingModules(in: output) == ["Other", "NIOCore"])
        #expect(HostBuild.missingModules(in: "error: cannot find 'x' in scope").isEmpty)
    }

    @Test func aMissingImportAdvisesOnTheHostAndHotOnHotNode() {
        var failure = CompileFailure(module: "routes", status: 1, output: "")
        #expect(failure.hostAdvice == nil)
        failure.host = HostConfig(package: "server", product: "api")
        failure.missingFromHost = ["PostgresNIO", "Hot"]
        let lines = (failure.hostAdvice ?? "").split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("module routes imports PostgresNIO, which the host api does not link: add the package that provides PostgresNIO to the dependencies of api in server/Package.swift"))
        #expect(lines[1].hasPrefix("the host api does not link Hot, which every module imports: add Hot's HotNode library"))
        #expect(lines.allSatisfy { $0.hasSuffix("rebuild the host (`swift build --product api` in server), then run hot build again") })
    }

    @Test func aHostModuleCompilesAgainstTheHostFolderOnly() {
        let host = HostBuild(
            fingerprint: "31c55347b380cc337f47b8d9756cc8d10a203ba8", executable: "/p/server", modules: ["Shared": "/x"],
            clangFlags: ["-Xcc", "-DLEVEL=2"], modulesDirectory: "/proj/.hot/host/Modules", stamp: "")
        let job = CompileJob(
            module: "greet", version: 1, key: CompileJobTests.key, sources: ["/proj/modules/greet/greet.swift"],
            buildDirectory: "/proj/.hot/build", toolchain: CompileJobTests.toolchain, flags: ["-DX"], release: false,
            commit: nil, host: host)
        let i = job.arguments.firstIndex(of: "-I")!
        #expect(job.arguments[i + 1] == "/proj/.hot/host/Modules")
        #expect(!job.arguments.contains(CompileJobTests.toolchain.sdkModules))
        #expect(job.arguments.contains("-DLEVEL=2"))
        #expect(!job.arguments.contains { $0.hasPrefix("-l") || $0 == "-L" })
        #expect(job.entrySource.contains("host 31c55347b380cc337f47b8d9756cc8d10a203ba8"))
    }

    @Test func theHostIsInTheKeyOnlyWhenThereIsOne() {
        let files = [(path: "modules/a/a.swift", id: "ce01")]
        let plain = ContentKey(files: files, includes: [], flags: [], compiler: "6.3.1", sdk: "s", abi: 1).hex
        let one = ContentKey(files: files, includes: [], flags: [], compiler: "6.3.1", sdk: "s", abi: 1, host: "aa").hex
        let other = ContentKey(files: files, includes: [], flags: [], compiler: "6.3.1", sdk: "s", abi: 1, host: "bb").hex
        #expect(plain != one && one != other)
        #expect(plain == ContentKey(files: files, includes: [], flags: [], compiler: "6.3.1", sdk: "s", abi: 1, host: nil).hex)
    }

    @Test func hotJSONReadsTheHostWithDebugByDefault() throws {
        let config = try TermDecoder().decode(
            ProjectConfig.self, from: JSON.parse(#"{"name": "a", "host": {"package": "server", "product": "api"}}"#))
        #expect(config.host == HostConfig(package: "server", product: "api", configuration: .debug))
        let release = try TermDecoder().decode(
            ProjectConfig.self,
            from: JSON.parse(#"{"name": "a", "host": {"package": ".", "product": "api", "configuration": "release"}}"#))
        #expect(release.host?.configuration == .release)
        #expect(try TermDecoder().decode(ProjectConfig.self, from: JSON.parse(#"{"name": "a"}"#)).host == nil)
    }
}
