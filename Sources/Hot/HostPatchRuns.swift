import Synchronization

/// How often each member a patch of the host's code replaces has run since
/// the patch was loaded, and the patch's export `members` that reports it to
/// `hot status` (docs/ARCHITECTURE.md, "Patching the host").
///
/// In the SDK, compiled once with the host, so that a patch's generated code
/// only names it: the same counters generated into each patch (a class
/// holding an `Atomic<Int>`, an array of them, a map over the table) cost
/// about 20 ms of the patch's compile of 150 on a 100-file app, all of it
/// type checking of generic code that never changes.
public final class HostPatchRuns: Sendable {
    private final class Counter: Sendable {
        let runs = Atomic<Int>(0)
    }

    private let members: [String]
    private let counters: [Counter]

    /// Counters for `members`, one per replaced member, each
    /// `file TAB member TAB line TAB changed`; a replacement counts into the
    /// counter of its index.
    public init(_ members: [String]) {
        self.members = members
        self.counters = members.map { _ in Counter() }
    }

    /// Counts a run of member `index`: the first statement of each replacement.
    public func ran(_ index: Int) {
        counters[index].runs.add(1, ordering: .relaxed)
    }

    /// Each member's entry with its runs appended, `… TAB runs`.
    public func entries() -> [String] {
        zip(members, counters).map { member, counter in member + "\t" + String(counter.runs.load(ordering: .relaxed)) }
    }

    /// The export `members`, which `hot status` calls: `entries()`.
    public var export: Export {
        let entries: @Sendable () -> [String] = { [self] in self.entries() }
        return .function("members", entries)
    }
}
