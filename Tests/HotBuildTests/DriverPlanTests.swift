#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import Testing
@testable import HotBuild

/// The plan derived from the real driver's `-###`, as values.
@Suite("DriverPlan")
struct DriverPlanTests {
    static func job(_ module: String, version: Int, sources: [String], flags: [String] = [], build: String) -> CompileJob {
        CompileJob(
            module: module, version: version, key: CompileJobTests.key, sources: sources, buildDirectory: build,
            toolchain: CompileJobTests.toolchain, flags: flags, release: false, commit: nil)
    }

    static func scratch() throws -> String {
        var template = Array("/tmp/hot-plan.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        return String(cString: made)
    }

    @Test("derived once, instantiated for another module, version and sources, with nothing of the first left")
    func instantiate() throws {
        let swiftc = try #require(findExecutable("swiftc"))
        let root = try Self.scratch()
        defer { removeTree(root) }
        let first = Self.job("chat", version: 3, sources: ["\(root)/modules/chat/a b.swift", "\(root)/x'y.swift"],
                             flags: ["-D", "TRACE"], build: root + "/build")
        let plan = try DriverPlan.derive(for: first, swiftc: swiftc, scratch: root + "/derive")
        #expect(!fileExists(root + "/derive"), "the scratch folder goes")
        #expect(lastPathComponent(plan.frontend[0]) == "swift-frontend")
        #expect(plan.frontend.contains("TRACE"))

        let other = Self.job("room", version: 12, sources: ["\(root)/modules/room/r.swift", "\(root)/shared/s.swift"],
                             flags: ["-D", "TRACE"], build: root + "/build")
        #expect(DriverPlanCache.key(for: first, toolchain: CompileJobTests.toolchain)
                == DriverPlanCache.key(for: other, toolchain: CompileJobTests.toolchain))
        let steps = try #require(plan.steps(for: other))
        let words = steps.frontend + steps.autolink + steps.link(entries: ["-lswiftCore"])
        #expect(!words.contains { $0.contains("chat") || $0.contains("a b.swift") || $0.contains("\u{1}") }, "\(words)")
        let sources = other.sources + [other.entryFile]
        let at = try #require(steps.frontend.firstIndex(of: sources[0]))
        #expect(Array(steps.frontend[at..<at + sources.count]) == sources)
        #expect(steps.frontend.contains("room_v12"))
        #expect(steps.frontend.last == DriverPlan.objectPath(other) && steps.intermediates.allSatisfy { $0.hasPrefix(root + "/build/room/") })
        // Three sources: the driver passes a map of outputs, which the instance writes for its own.
        #expect(plan.supplementary == [0])
        #expect(steps.inputs.keys.sorted() == [DriverPlan.mapPath(other)])
        #expect(String(decoding: steps.inputs.values.first ?? [], as: UTF8.self).contains("room"))
        let link = steps.link(entries: ["-lswiftCore", "-lswift_Concurrency"])
        #expect(lastPathComponent(link[0]).hasPrefix("ld"))
        #expect(link.contains(DriverPlan.objectPath(other)) && link.contains(other.temporaryOutput))
        let entries = try #require(link.firstIndex(of: "-lswiftCore"))
        #expect(link[entries + 1] == "-lswift_Concurrency")
        // An entry clang would translate goes through clang's own line.
        #expect(lastPathComponent(steps.link(entries: ["-Xlinker", "-z"])[0]) == "clang")

        // The cache file gives the plan back.
        #expect(DriverPlanCache.decode(DriverPlanCache.encode(plan)) == plan)
        let flagged = Self.job("chat", version: 3, sources: first.sources, flags: ["-D", "OTHER"], build: root + "/build")
        #expect(DriverPlanCache.key(for: first, toolchain: CompileJobTests.toolchain)
                != DriverPlanCache.key(for: flagged, toolchain: CompileJobTests.toolchain))
    }

    @Test("command lines split as a shell would, and what a shell would expand is refused")
    func shellWords() {
        #expect(DriverPlan.shellWords(#"a 'b c' "d\"e" f\ g '-DX="y"' 'it'\''s'"#) == ["a", "b c", "d\"e", "f g", "-DX=\"y\"", "it's"])
        #expect(DriverPlan.shellWords(#" "/usr/bin/ld.gold" "-o" "/p/o ut.so""#) == ["/usr/bin/ld.gold", "-o", "/p/o ut.so"])
        #expect(DriverPlan.shellWords("a 'open") == nil)
        #expect(DriverPlan.shellWords("a $HOME") == nil)
        #expect(DriverPlan.shellWords("a > b") == nil)
        // A tilde or a hash starts an expansion or a comment only at the
        // start of a word.
        #expect(DriverPlan.shellWords("a ~/x") == nil)
        #expect(DriverPlan.shellWords("a #b") == nil)
        #expect(DriverPlan.shellWords("/p/a~1/x.o -DN#2") == ["/p/a~1/x.o", "-DN#2"])
    }
}
