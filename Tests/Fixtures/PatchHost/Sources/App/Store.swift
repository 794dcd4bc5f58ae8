/// The shop's stock: a few items and their prices, held by the running app.
final class Store: @unchecked Sendable {
    var prices: [String: Int] = ["apple": 3, "pear": 5]

    /// How the store names itself.
    var label: String { "the shop" }

    static func opening() -> String { "open" }
}

/// The banner every answer ends with.
func banner() -> String { "v1" }
