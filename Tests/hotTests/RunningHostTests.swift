import Testing

@testable import hot

/// When one build of a module can fit the nodes of a deploy, by the builds of the host they run.
@Suite struct RunningHostTests {
    let built = String(repeating: "b", count: 40)
    let old = String(repeating: "a", count: 40)
    let older = String(repeating: "c", count: 40)

    @Test func oneBuildFitsAll() {
        #expect(mixedHostBuilds([], built: built) == nil)
        #expect(mixedHostBuilds([("n1", built), ("n2", built)], built: built) == nil)
        // All on one other build: built for that one.
        #expect(mixedHostBuilds([("n1", old), ("n2", old)], built: built) == nil)
    }

    @Test func severalBuildsAreRefusedNamingEach() throws {
        let mixed = try #require(mixedHostBuilds([("n1", built), ("n2", old)], built: built))
        #expect(mixed.contains("the nodes run 2 builds of the host (n1 runs bbbbbbbbbbbb, n2 runs aaaaaaaaaaaa; .build holds bbbbbbbbbbbb)"), "\(mixed)")
        #expect(mixed.contains("deploy to each build's nodes with --node"), "\(mixed)")
        #expect(!mixed.contains("\n"))
        let twoOld = try #require(mixedHostBuilds([("n1", old), ("n2", older)], built: built))
        #expect(twoOld.contains("the nodes run 2 builds"), "\(twoOld)")
    }
}
