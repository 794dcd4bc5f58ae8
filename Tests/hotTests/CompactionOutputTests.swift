import HotWire
import Testing

@testable import hot

/// What `hot compact` and `hot status` print about a compaction, for people.
@Suite struct CompactionOutputTests {
    private let record = StatusReply.Compaction(
        at: 1_700_000_000, trigger: "request", pausedMilliseconds: 141.6, versionsBefore: 2003, versionsAfter: 3,
        residentBefore: 76_130_000, residentAfter: 25_300_000, mappingsBefore: 4021, mappingsAfter: 221, servers: ["<0.3.0>", "<0.4.0>"])

    private func status(mapped: Int?, last: StatusReply.Compaction?) -> StatusReply {
        StatusReply(
            node: "app", pid: 42, mode: "interactive", modules: [],
            processes: [
                StatusReply.Process(pid: "<0.3.0>", name: "counter", module: "t2", version: 1, code: .current, function: "server:counter"),
                StatusReply.Process(pid: "<0.4.0>", name: nil, module: "cart", version: 2, code: .current, function: "server:cart"),
            ],
            retainedBytes: 1_500_000, mappedVersions: mapped, lastCompaction: last)
    }

    @Test func numbersForPeople() {
        #expect(grouped(0) == "0")
        #expect(grouped(999) == "999")
        #expect(grouped(2003) == "2,003")
        #expect(grouped(1_234_567) == "1,234,567")
        #expect(byteSize(76_130_000) == "76.1 MB")
        #expect(byteSize(25_300_000) == "25.3 MB")
        #expect(byteSize(1_999_999_999) == "2,000.0 MB")
        #expect(byteSize(999_949) == "1,000 KB")
        #expect(byteSize(999_950) == "1.0 MB")
        #expect(byteSize(45_300) == "45 KB")
        #expect(byteSize(0) == "0 KB")
    }

    @Test func compactSaysWhatWasFreedAndWhatCrossed() {
        let after = status(mapped: 3, last: record)
        let compacted = Compacted(node: "app", reply: nil, after: after, record: record, known: after.processes)
        #expect(compacted.summary == "compacted app: 2,003 versions -> 3, resident 76.1 MB -> 25.3 MB, mappings 4,021 -> 221; clients waited 142 ms; servers carried: <0.3.0> counter, <0.4.0> in cart")
    }

    @Test func statusShowsVersionsMappedAndTheLastCompaction() {
        let text = describeStatus(status(mapped: 3, last: record))
        #expect(text.contains("\n  versions mapped: 3 (1.5 MB held by versions neither current nor old)\n"), "\(text)")
        #expect(text.contains("\n  last compaction: 2023-11-14 22:13:20Z (request): 2,003 versions -> 3, resident 76.1 MB -> 25.3 MB, mappings 4,021 -> 221; paused 142 ms\n"), "\(text)")
        let older = describeStatus(status(mapped: nil, last: nil))
        #expect(!older.contains("versions mapped") && !older.contains("last compaction"), "a node that reports neither: \(older)")
    }
}
