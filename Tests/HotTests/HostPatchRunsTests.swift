import Hot
import Testing

/// The run counters a host patch's generated code names, and its export `members`.
@Suite("HostPatchRuns: a host patch's run counters")
struct HostPatchRunsTests {
    @Test("each member counts its own runs, from several threads at once, and the export lists them as hot status reads them")
    func countsAndExports() async throws {
        let runs = HostPatchRuns(["Sources/App/A.swift\ta()\t3\ttrue", "Sources/App/B.swift\tb()\t7\tfalse"])
        #expect(runs.entries() == ["Sources/App/A.swift\ta()\t3\ttrue\t0", "Sources/App/B.swift\tb()\t7\tfalse\t0"])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<1000 { runs.ran(0) }
                    runs.ran(1)
                }
            }
        }
        let export = runs.export
        #expect(export.name == "members")
        #expect(export.arity == 0)
        #expect(
            try export.body([])
                == .list([.string("Sources/App/A.swift\ta()\t3\ttrue\t4000"), .string("Sources/App/B.swift\tb()\t7\tfalse\t4")]))
    }

    @Test("a patch of no members exports an empty list")
    func empty() throws {
        #expect(try HostPatchRuns([]).export.body([]) == .list([]))
    }
}
