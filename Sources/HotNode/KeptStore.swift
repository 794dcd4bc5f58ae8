import Hot
import HotPlatform
import HotWire

/// The values modules keep across reloads (`Kept`), by module and key, as
/// terms (docs/ARCHITECTURE.md, "Kept state").
///
/// Each key has two locks. `access` serializes a whole read-modify-write
/// (`Kept.withValue`), module code running inside it; `value` guards the
/// term alone and is held only to copy it in or out. A compaction reads
/// every term through `value` only, so a module's body that waits on
/// `loading` (an external call that loads a module on demand) while holding
/// `access` cannot stall the compaction that holds `loading`.
final class KeptStore: Sendable {
    final class Slot: Sendable {
        /// A pthread mutex: the body's result is the caller's, not a sendable value.
        let access = Condition()
        let value = Locked<Term?>(nil)
    }

    /// Module → key → slot. A leaf in the node's lock order (docs/ARCHITECTURE.md,
    /// "Lock order"), held only to find or change a slot; a slot's value lock is a leaf too.
    private let slots = Locked<[String: [String: Slot]]>([:])
    /// Keys per module (`NodeLimits.keptKeys`).
    let limit: Int

    init(limit: Int = NodeLimits().keptKeys) { self.limit = limit }

    /// `Kept.withValue`: `body` on the term under `module`/`key`, every
    /// other access to that key waiting; what it leaves is kept. A new key
    /// past `limit` for its module is refused with `KeptError.tooManyKeys`.
    func withValue<R>(_ module: String, _ key: String, _ body: (inout Term?) throws -> R) throws -> R {
        try withSlot(module, key, limited: true) { slot in
            try slot.access.withLock {
                var term = slot.value.withLock { $0 }
                let result = try body(&term)
                slot.value.withLock { [term] in $0 = term }
                return result
            }
        }
    }

    private func withSlot<R>(_ module: String, _ key: String, limited: Bool, _ body: (Slot) throws -> R) throws -> R {
        let found: Slot? = slots.withLock { slots in
            if let slot = slots[module]?[key] { return slot }
            if limited, (slots[module]?.count ?? 0) >= limit { return nil }
            let slot = Slot()
            slots[module, default: [:]][key] = slot
            return slot
        }
        guard let slot = found else { throw KeptError.tooManyKeys(module: module, key: key, limit: limit) }
        return try body(slot)
    }

    /// Every kept value, for a compaction's handoff: module, key and term.
    func snapshot() -> [KeptValue] {
        let all = slots.withLock { $0 }
        var values: [KeptValue] = []
        for (module, keys) in all.sorted(by: { $0.key < $1.key }) {
            for (key, slot) in keys.sorted(by: { $0.key < $1.key }) {
                if let term = slot.value.withLock({ $0 }) { values.append(KeptValue(module: module, key: key, value: term)) }
            }
        }
        return values
    }

    /// Stores values carried across a compaction, before any module's code runs.
    func restore(_ values: [KeptValue]) {
        for value in values {
            // No module code runs yet, so nothing else holds the key; the
            // values were within the limit in the process that kept them.
            try? withSlot(value.module, value.key, limited: false) { slot in slot.value.withLock { $0 = value.value } }
        }
    }

    /// The keys `module` keeps, sorted, with each term's size in the wire's
    /// encoding (what it costs to hold and to carry).
    func keys(of module: String) -> [StatusReply.KeptKey] {
        let keys = slots.withLock { $0[module] ?? [:] }
        return keys.sorted { $0.key < $1.key }.compactMap { key, slot in
            slot.value.withLock { $0 }.map { StatusReply.KeptKey(key: key, bytes: TermCodec.encode($0).count) }
        }
    }

    /// Forgets everything `module` keeps: it has no version left in the node.
    func drop(_ module: String) {
        _ = slots.withLock { $0.removeValue(forKey: module) }
    }
}

/// One kept value as it crosses a compaction.
struct KeptValue: Codable, Sendable {
    var module: String
    var key: String
    var value: Term
}
