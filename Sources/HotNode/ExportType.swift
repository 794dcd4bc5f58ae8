import Hot
import HotPlatform

/// The Swift type of an export, or of what a typed handle calls, as text.
///
/// `exact` is the runtime's full rendering (`String(reflecting:)`), module
/// names included, so two types print alike only when their metadata does;
/// `shown` is the short form people read. A handle and a trial child name
/// the same type alike: both run the same executable, the host's, and the
/// module binds to the host's types (docs/ARCHITECTURE.md, "Typed handles").
public struct ExportType: Sendable, Equatable, CustomStringConvertible {
    /// `@Sendable (App.Request, App.Context) async throws -> App.Response`.
    public let exact: String
    /// `(Request, Context) async throws -> Response`.
    public let shown: String

    /// The text of a function type.
    public init<F>(_ type: F.Type) {
        self.init(exact: String(reflecting: type), shown: String(describing: type))
    }

    init(exact: String, shown: String) {
        self.exact = exact
        // Every export and every handle is `@Sendable`: saying so tells nothing.
        let sendable = "@Sendable "
        self.shown = shown.hasPrefix(sendable) ? String(shown.dropFirst(sendable.count)) : shown
    }

    /// The type of an export's Swift function; for an export over terms
    /// only (no Swift function), a phrase saying so.
    init(of export: Export) {
        guard let typed = export.typed else {
            let text = "a function over terms of \(export.arity) argument\(export.arity == 1 ? "" : "s"), no Swift type"
            self.init(exact: text, shown: text)
            return
        }
        let dynamic: Any.Type = Swift.type(of: typed)
        self.init(exact: String(reflecting: dynamic), shown: String(describing: dynamic))
    }

    public var description: String { shown }
}

/// What one live typed handle asks of its module: an export of this name
/// and type. A load that would leave it without one is refused
/// (docs/ARCHITECTURE.md, "Typed handles").
struct ExportDemand: Sendable {
    /// The export's name.
    let function: String
    /// The type the handle calls it as.
    let type: ExportType
    /// The call path's own test: whether the handle can call this export
    /// (the same cast `resolve` makes).
    let accepts: @Sendable (Export) -> Bool
}

/// The demands of a module's live handles, each under the number its
/// handle withdraws it by when it is freed. A leaf lock.
final class ExportDemands: Sendable {
    private let table = Locked<(next: UInt64, demands: [UInt64: ExportDemand])>((0, [:]))

    /// Records a handle's demand; the number to withdraw it with.
    func add(_ demand: ExportDemand) -> UInt64 {
        table.withLock { table in
            table.next += 1
            table.demands[table.next] = demand
            return table.next
        }
    }

    func withdraw(_ id: UInt64) {
        _ = table.withLock { $0.demands.removeValue(forKey: id) }
    }

    /// The demands now, one per export name and type, in name order.
    var all: [ExportDemand] {
        let demands = table.withLock { Array($0.demands.values) }
        var seen: Set<String> = []
        return demands.sorted { ($0.function, $0.type.exact) < ($1.function, $1.type.exact) }
            .filter { seen.insert($0.function + "\n" + $0.type.exact).inserted }
    }
}
