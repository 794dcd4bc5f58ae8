import HotDeploy
import Testing

/// How a strategy cuts the nodes into commit batches.
@Suite("Strategy")
struct StrategyTests {
    @Test("all: one batch of every node")
    func all() {
        #expect(Strategy.all.batches(count: 4) == [[0, 1, 2, 3]])
        #expect(Strategy.all.batches(count: 1) == [[0]])
    }

    @Test("rolling: N nodes a batch, the last batch holding what is left")
    func rolling() {
        #expect(Strategy.rolling(batch: 2).batches(count: 5) == [[0, 1], [2, 3], [4]])
        #expect(Strategy.rolling(batch: 1).batches(count: 3) == [[0], [1], [2]])
        #expect(Strategy.rolling(batch: 3).batches(count: 3) == [[0, 1, 2]])
        #expect(Strategy.rolling(batch: 10).batches(count: 3) == [[0, 1, 2]])
        #expect(Strategy.rolling(batch: 0).batches(count: 3) == [[0], [1], [2]], "a batch of none is a batch of one")
    }

    @Test("canary: the canaries first, then every other node at once")
    func canary() {
        #expect(Strategy.canary(count: 1, wait: .seconds(5)).batches(count: 4) == [[0], [1, 2, 3]])
        #expect(Strategy.canary(count: 2, wait: .zero).batches(count: 4) == [[0, 1], [2, 3]])
        #expect(Strategy.canary(count: 4, wait: .zero).batches(count: 4) == [[0, 1, 2, 3]], "all canaries: no second batch")
        #expect(Strategy.canary(count: 9, wait: .zero).batches(count: 2) == [[0, 1]])
        #expect(Strategy.canary(count: 0, wait: .zero).batches(count: 3) == [[0], [1, 2]], "at least one canary")
    }

    @Test("no nodes, no batches")
    func empty() {
        for strategy in [Strategy.all, .rolling(batch: 2), .canary(count: 1, wait: .seconds(1))] {
            #expect(strategy.batches(count: 0) == [], "\(strategy)")
        }
    }

    @Test("every strategy commits every node exactly once, in node order, in no empty batch")
    func partition() {
        var strategies: [Strategy] = [.all]
        for n in 0...6 { strategies += [.rolling(batch: n), .canary(count: n, wait: .zero)] }
        for strategy in strategies {
            for count in 0...9 {
                let batches = strategy.batches(count: count)
                #expect(batches.flatMap { $0 } == Array(0..<count), "\(strategy), \(count) nodes")
                #expect(!batches.contains { $0.isEmpty }, "\(strategy), \(count) nodes")
            }
        }
    }
}
