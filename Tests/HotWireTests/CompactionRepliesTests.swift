import Hot
import Testing

@testable import HotWire

/// The documents of a compaction: the reply to `compact`, and the status
/// fields that say what the node maps and when it last compacted. Pinned
/// to the terms docs/PROTOCOL.md lists.
@Suite struct CompactionRepliesTests {
    /// `reply` encodes to exactly `term`, and both it and the wire bytes of that term read back as `reply`.
    private func expectPinned<Reply: ReplyDocument>(_ reply: Reply, _ term: Term, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(reply.term == term, sourceLocation: sourceLocation)
        #expect(try Reply(term: term) == reply, sourceLocation: sourceLocation)
        #expect(try Reply(term: TermCodec.decode(TermCodec.encode(reply.term))) == reply, sourceLocation: sourceLocation)
    }

    @Test func compactReply() throws {
        let reply = CompactReply(
            node: "app", pid: 4242, modules: ["chat": 3, "math": 1], servers: ["<0.3.0>"], stopped: ["<0.9.0>"], versionsBefore: 2003,
            residentBefore: 76_100_000, mappingsBefore: 4021)
        try expectPinned(reply, [
            "node": "app", "pid": 4242, "modules": ["chat": 3, "math": 1], "servers": ["<0.3.0>"], "stopped": ["<0.9.0>"],
            "versionsBefore": 2003, "residentBefore": 76_100_000, "mappingsBefore": 4021,
        ])
    }

    @Test func statusWithCompaction() throws {
        let compaction = StatusReply.Compaction(
            at: 1_700_000_100.5, trigger: "threshold", pausedMilliseconds: 142.25, versionsBefore: 2003, versionsAfter: 3,
            residentBefore: 76_100_000, residentAfter: 25_300_000, mappingsBefore: 4021, mappingsAfter: 221, servers: ["<0.3.0>"])
        let status = StatusReply(
            node: "app", pid: 4242, mode: "interactive", modules: [], processes: [], retainedBytes: 0, mappedVersions: 3,
            lastCompaction: compaction)
        try expectPinned(status, [
            "node": "app", "pid": 4242, "mode": "interactive", "modules": [], "processes": [], "retainedBytes": 0, "mappedVersions": 3,
            "lastCompaction": [
                "at": .double(1_700_000_100.5), "trigger": "threshold", "pausedMilliseconds": .double(142.25), "versionsBefore": 2003,
                "versionsAfter": 3, "residentBefore": 76_100_000, "residentAfter": 25_300_000, "mappingsBefore": 4021,
                "mappingsAfter": 221, "servers": ["<0.3.0>"],
            ],
        ])
    }

    @Test func statusFromANodeThatNeverCompacted() throws {
        // An older node sends neither field; a node that never compacted sends no lastCompaction.
        let old: Term = ["node": "app", "pid": 1, "mode": "interactive", "modules": [], "processes": [], "retainedBytes": 0]
        let status = try StatusReply(term: old)
        #expect(status.mappedVersions == nil && status.lastCompaction == nil)
        #expect(status.term == old, "absent fields stay absent")
    }
}
