import Foundation
import Testing

/// `hot build` runs the frontend and linker directly, with command lines
/// derived from the driver (docs/ARCHITECTURE.md, "Direct build"): real
/// swiftc, real linker, real node.
@Suite("Direct build", .serialized)
struct DirectBuildTests {
    static let driver = ["HOT_BUILD_DRIVER": "1"]
    static let direct = ["HOT_BUILD_DRIVER": ""]

    @Test("a module built directly has the driver's program headers, dynamic symbols and libraries, and loads")
    func sameArtifact() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        let built = try scratch.hot(["build"], environment: Self.direct)
        try #require(built.status == 0, "\(built)")
        #expect(try Self.plans(scratch).count == 1, "the direct build must have used a plan")
        let file = try #require(try Self.artifacts(scratch).first)
        let direct = scratch.path("direct.so")
        try FileManager.default.copyItem(atPath: scratch.path("app/.hot/build/hello/" + file), toPath: direct)

        // The same sources, version and key again, through the driver.
        try FileManager.default.removeItem(atPath: scratch.path("app/.hot/build"))
        try FileManager.default.removeItem(atPath: scratch.path("app/.hot/manifest.json"))
        let again = try scratch.hot(["build"], environment: Self.driver)
        try #require(again.status == 0, "\(again)")
        #expect(try Self.artifacts(scratch) == [file])
        let driver = scratch.path("app/.hot/build/hello/" + file)

        #expect(try Self.programHeaders(scratch, direct) == Self.programHeaders(scratch, driver))
        let symbols = try Self.lines(scratch, "nm", ["-D", "--defined-only", "--format=just-symbols", direct])
        #expect(symbols.contains("hot_module_descriptor") && symbols.contains("hot_module_entry"), "\(symbols)")
        #expect(symbols == (try Self.lines(scratch, "nm", ["-D", "--defined-only", "--format=just-symbols", driver])))
        #expect(try Self.needed(scratch, direct) == Self.needed(scratch, driver))
        // Both bound now (docs/ARCHITECTURE.md, "Fact: never-close"): .got.plt
        // sits inside RELRO, and the writable page is the last mapping.
        for file in [direct, driver] {
            let dynamic = try Self.lines(scratch, "readelf", ["-dW", file])
            #expect(dynamic.contains { $0.contains("BIND_NOW") }, "\(file): \(dynamic)")
        }

        // The node boots the driver's build, then loads a direct one.
        try #require(try scratch.hot(["start"], environment: Self.driver).status == 0)
        #expect(try scratch.hot(["call", "hello:greet", "ann"]).stdout == "\"Hello, ann!\"\n")
        let source = try scratch.read("app/modules/hello/hello.swift")
        try scratch.write("app/modules/hello/hello.swift", source.replacingOccurrences(of: "Hello, ", with: "Howdy, "))
        let deployed = try scratch.hot(["deploy"], environment: Self.direct)
        #expect(deployed.status == 0 && deployed.stdout.contains("hello v1 -> v2"), "\(deployed)")
        #expect(try scratch.hot(["call", "hello:greet", "ann"]).stdout == "\"Howdy, ann!\"\n")
        let status = try #require(try parseJSON(try scratch.hot(["status", "--json"]).stdout) as? [String: Any])
        let hello = try #require((status["modules"] as? [[String: Any]])?.first { $0["name"] as? String == "hello" })
        #expect((hello["current"] as? [String: Any])?["version"] as? Int == 2)
    }

    @Test("a second build reuses the derived plan; a changed swiftcFlags derives a new one")
    func planCached() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        try #require(try scratch.hot(["build"], environment: Self.direct).status == 0)
        let plans = try Self.plans(scratch)
        try #require(plans.count == 1)
        let plan = scratch.path("app/.hot/build/.driver-plans/" + plans[0])
        let before = try Self.identity(plan)

        try Self.edit(scratch, "Hello, ", "Hi, ")
        let second = try scratch.hot(["build"], environment: Self.direct)
        #expect(second.status == 0 && second.stdout.contains("built hello v2"), "\(second)")
        // Derivation writes the plan file anew (a new inode): this one was only read.
        #expect(try Self.identity(plan) == before, "the plan must be read, not derived again")
        #expect(try Self.plans(scratch) == plans)
        // The autolink tool's answer for hello's imports, kept from the first build.
        let kept = try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/.driver-plans"))
        #expect(kept.filter { $0.hasPrefix("autolink-") }.count == 1, "\(kept)")

        let config = try scratch.read("app/hot.json")
        try scratch.write("app/hot.json", config.replacingOccurrences(of: "\"swiftcFlags\": []", with: "\"swiftcFlags\": [\"-DHOT_TEST\"]"))
        let third = try scratch.hot(["build"], environment: Self.direct)
        #expect(third.status == 0 && third.stdout.contains("built hello v3"), "\(third)")
        #expect(try Self.plans(scratch).count == 2, "a new flag is a new plan")
        #expect(try Self.leftovers(scratch).isEmpty, "the object and autolink list go once linked")
        #expect(!third.stderr.contains("driver"), "\(third)")
    }

    @Test("when -### prints what cannot be used, the build runs the driver and says so once")
    func fallback() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        let wrapper = scratch.path("swiftc")
        try """
            #!/bin/sh
            for a in "$@"; do
              if [ "$a" = "-###" ]; then echo "this is not a command line"; echo "nor is this"; exit 0; fi
            done
            exec swiftc "$@"

            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        let environment = ["HOT_SWIFTC": wrapper, "HOT_BUILD_DRIVER": ""]
        let first = try scratch.hot(["build"], environment: environment)
        #expect(first.status == 0 && first.stdout.contains("built hello v1"), "\(first)")
        #expect(first.stderr.components(separatedBy: "compiling through the swiftc driver").count == 2, "\(first)")
        try Self.edit(scratch, "Hello, ", "Hi, ")
        let second = try scratch.hot(["build"], environment: environment)
        #expect(second.status == 0 && second.stdout.contains("built hello v2"), "\(second)")
        #expect(!second.stderr.contains("driver"), "said once: \(second)")
        #expect(try Self.plans(scratch).isEmpty)
        #expect(try Self.leftovers(scratch).isEmpty)
    }

    @Test("a compile error prints the compiler's diagnostics with file and line, and leaves nothing")
    func compileError() throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        try #require(try scratch.hot(["init", "app"], in: "").status == 0)
        let source = try scratch.read("app/modules/hello/hello.swift")
        let line = source.split(separator: "\n", omittingEmptySubsequences: false).count
        try scratch.write("app/modules/hello/hello.swift", source + "let broken: Int = \"not an int\"\n")
        let failed = try scratch.hot(["build"], environment: Self.direct)
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stderr.contains("hello.swift:\(line):"), "\(failed)")
        #expect(failed.stderr.contains("error:"), "\(failed)")
        #expect(try Self.plans(scratch).count == 1, "built directly: \(failed)")
        #expect(try Self.leftovers(scratch).isEmpty)
        #expect(try Self.artifacts(scratch).isEmpty)
    }

    // MARK: - Reading the results

    static func edit(_ scratch: Scratch, _ from: String, _ to: String) throws {
        let source = try scratch.read("app/modules/hello/hello.swift")
        try scratch.write("app/modules/hello/hello.swift", source.replacingOccurrences(of: from, with: to))
    }

    static func plans(_ scratch: Scratch) throws -> [String] {
        let folder = scratch.path("app/.hot/build/.driver-plans")
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".plan") }.sorted()
    }

    static func artifacts(_ scratch: Scratch) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/build/hello"))
            .filter { $0.hasSuffix(".so") && !$0.hasPrefix(".") }
    }

    /// Temporary, intermediate and scratch files anywhere under the build folder.
    static func leftovers(_ scratch: Scratch) throws -> [String] {
        let names = FileManager.default.enumerator(atPath: scratch.path("app/.hot/build"))?.allObjects as? [String] ?? []
        return names.filter {
            let name = ($0 as NSString).lastPathComponent
            return name.contains(".tmp") || name.hasPrefix(".entry") || name == "derive" || name.hasPrefix("TemporaryDirectory")
        }
    }

    static func identity(_ path: String) throws -> [String] {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return ["\(attributes[.systemFileNumber] ?? "")", "\(attributes[.modificationDate] ?? "")"]
    }

    static func lines(_ scratch: Scratch, _ tool: String, _ arguments: [String]) throws -> [String] {
        let outcome = try scratch.run("/usr/bin/env", [tool] + arguments, in: scratch.root)
        try #require(outcome.status == 0, "\(tool): \(outcome)")
        return outcome.stdout.split(separator: "\n").map(String.init)
    }

    /// Each program header's type and flags, in order (`readelf -lW`), without addresses.
    static func programHeaders(_ scratch: Scratch, _ file: String) throws -> [String] {
        let all = try lines(scratch, "readelf", ["-lW", file])
        guard let start = all.firstIndex(where: { $0.contains("Type") && $0.contains("Offset") }) else { return [] }
        var headers: [String] = []
        for line in all[(start + 1)...] {
            let words = line.split(separator: " ")
            guard let type = words.first, type.allSatisfy({ $0.isUppercase || $0 == "_" }), words.count >= 8 else {
                if headers.isEmpty { continue } else { break }
            }
            // Type, Offset, VirtAddr, PhysAddr, FileSiz, MemSiz, then the flags and Align.
            headers.append(([String(type)] + words[6..<(words.count - 1)].map(String.init)).joined(separator: " "))
        }
        return headers
    }

    /// The shared libraries the file needs, as a set.
    static func needed(_ scratch: Scratch, _ file: String) throws -> Set<String> {
        Set(try lines(scratch, "readelf", ["-dW", file]).filter { $0.contains("(NEEDED)") }
            .compactMap { $0.split(separator: "[").last.map { String($0.dropLast()) } })
    }
}
