import Hot
import Synchronization

/// Where external calls find a module's current version.
///
/// A call reads the table with atomic loads and no lock and no retain: every
/// slot and every published version is retained for the life of the node
/// (their code stays mapped anyway, DESIGN.md fact 1), so a reader may hold a
/// plain reference without counting it. Only the code server writes.
public final class ExportTable: @unchecked Sendable {
    // @unchecked: `onMiss` is set once, before the node serves anything.
    private let slotsPointer = Atomic<UInt>(0)
    /// Interactive mode's hook: asked to load a module a call found missing.
    var onMiss: (@Sendable (String) -> Bool)?

    init() { publish([:]) }

    /// The slot of `module`, or nil if the node never saw it.
    func slot(_ module: String) -> ModuleSlot? {
        let bits = slotsPointer.load(ordering: .acquiring)
        guard let raw = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged<SlotMap>.fromOpaque(raw)._withUnsafeGuaranteedRef { $0.slots[module] }
    }

    /// The slot of `module`, made (and published) if new. Code server only.
    func slotCreating(_ module: String) -> ModuleSlot {
        if let slot = slot(module) { return slot }
        let bits = slotsPointer.load(ordering: .acquiring)
        var slots = UnsafeRawPointer(bitPattern: bits).map {
            Unmanaged<SlotMap>.fromOpaque($0).takeUnretainedValue().slots
        } ?? [:]
        let slot = ModuleSlot(name: module)
        slots[module] = slot
        publish(slots)
        return slot
    }

    private func publish(_ slots: [String: ModuleSlot]) {
        // Retained forever: a reader may still be looking at the previous map.
        let map = Unmanaged.passRetained(SlotMap(slots: slots))
        slotsPointer.store(UInt(bitPattern: map.toOpaque()), ordering: .releasing)
    }

    /// An external call: always reaches the module's current version.
    public func call(_ module: String, _ function: String, _ args: [Term]) throws(CallError) -> Term {
        if let version = slot(module)?.current { return try version.call(function, args) }
        guard let onMiss, onMiss(module), let version = slot(module)?.current else { throw .undefinedModule(module) }
        return try version.call(function, args)
    }
}

private final class SlotMap: Sendable {
    let slots: [String: ModuleSlot]
    init(slots: [String: ModuleSlot]) { self.slots = slots }
}

/// One module's entry in the export table: its current version, swapped atomically.
final class ModuleSlot: Sendable {
    let name: String
    private let currentBits = Atomic<UInt>(0)

    init(name: String) { self.name = name }

    /// The current version, or nil when none is (never loaded, or deleted).
    var current: ModuleVersion? {
        let bits = currentBits.load(ordering: .acquiring)
        guard let raw = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged<ModuleVersion>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Makes `version` current. The code server retains each version it
    /// publishes for the node's life, so the unretained reads above are safe.
    func publish(_ version: ModuleVersion?) {
        let bits = version.map { UInt(bitPattern: Unmanaged.passUnretained($0).toOpaque()) } ?? 0
        currentBits.store(bits, ordering: .releasing)
    }
}
