/// The app's handlers: each route calls one of these methods.
struct Controller {
    let store: Store

    func greet(_ name: String) -> String { "Hello, \(name)\(mark())" }

    func total(_ item: String) -> String {
        let doubled = store.prices.values.map { $0 * 2 }
        return String(doubled.reduce(0, +))
    }

    func describe(_ item: String) -> String { "\(store.label) is \(Store.opening())" }

    private func mark() -> String { "!" }
}
