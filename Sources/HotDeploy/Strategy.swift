/// How committed versions are spread over the nodes.
public enum Strategy: Sendable, Equatable {
    /// Every node at once.
    case all
    /// `batch` nodes at a time, health checked between batches.
    case rolling(batch: Int)
    /// `canary` nodes first, a wait, a health check, then the rest.
    case canary(count: Int, wait: Duration)

    /// The commit batches of `count` nodes, as indices into the node list, in
    /// order: every node in exactly one batch, batches in node order. A batch
    /// or canary count below one counts as one.
    public func batches(count: Int) -> [[Int]] {
        guard count > 0 else { return [] }
        let all = Array(0..<count)
        switch self {
        case .all:
            return [all]
        case .rolling(let batch):
            let size = max(1, batch)
            return stride(from: 0, to: count, by: size).map { Array(all[$0..<min(count, $0 + size)]) }
        case .canary(let canaries, _):
            let first = min(count, max(1, canaries))
            return [Array(all[0..<first])] + (first < count ? [Array(all[first...])] : [])
        }
    }
}
