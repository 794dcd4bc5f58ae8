import Hot
import Synchronization

/// Where external calls find a module's current version.
///
/// A call reads the table with atomic loads and no lock and no retain: every
/// slot and every published version is retained for the life of the node
/// (their code stays mapped anyway, docs/ARCHITECTURE.md, "Fact: never-close"), so a reader may hold a
/// plain reference without counting it. Only the code server writes.
public final class ExportTable: @unchecked Sendable {
    // @unchecked: `onMiss` is set once, before the node serves anything.
    private let slotsPointer = Atomic<UInt>(0)
    /// Interactive mode's hook: asked to load a module a call found missing.
    var onMiss: (@Sendable (String) -> Bool)?

    init() { publish(NameTable([])) }

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
        let slots = UnsafeRawPointer(bitPattern: bits).map {
            Unmanaged<SlotMap>.fromOpaque($0).takeUnretainedValue().slots.pairs
        } ?? []
        let slot = ModuleSlot(name: module)
        publish(NameTable(slots + [(module, slot)]))
        return slot
    }

    private func publish(_ slots: NameTable<ModuleSlot>) {
        // Retained forever: a reader may still be looking at the previous map.
        let map = Unmanaged.passRetained(SlotMap(slots: slots))
        slotsPointer.store(UInt(bitPattern: map.toOpaque()), ordering: .releasing)
    }

    /// The module's current version; in interactive mode, loaded on demand
    /// when none is (for spawns as for calls, as Erlang's interactive mode).
    func currentLoading(_ module: String) -> ModuleVersion? {
        if let version = slot(module)?.current { return version }
        guard let onMiss, onMiss(module) else { return nil }
        return slot(module)?.current
    }

    /// An external call: always reaches the module's current version.
    public func call(_ module: String, _ function: String, _ args: [Term]) throws(CallError) -> Term {
        try onCurrent(module) { version throws(CallError) in try version.call(function, args) }
    }

    /// An external call of a function of one argument, with no argument
    /// array to allocate: the cheapest dynamic call.
    public func call(_ module: String, _ function: String, argument: Term) throws(CallError) -> Term {
        try onCurrent(module) { version throws(CallError) in try version.call(function, argument: argument) }
    }

    /// Runs `body` on the module's current version, loading the module
    /// first in interactive mode.
    @inline(__always)
    private func onCurrent(_ module: String, _ body: (ModuleVersion) throws(CallError) -> Term) throws(CallError) -> Term {
        // The common case reaches the slot and the version unretained (both
        // live as long as the node): no reference counting on the way.
        let bits = slotsPointer.load(ordering: .acquiring)
        if let raw = UnsafeRawPointer(bitPattern: bits),
            let result = Unmanaged<SlotMap>.fromOpaque(raw)._withUnsafeGuaranteedRef({ map in
                map.slots.lookup(module)?._withUnsafeGuaranteedRef { slot in
                    slot.withCurrent { version in Result { () throws(CallError) in try body(version) } }
                }
            })
        {
            return try result.get()
        }
        guard let onMiss, onMiss(module), let version = slot(module)?.current else { throw .undefinedModule(module) }
        return try body(version)
    }
}

private final class SlotMap: Sendable {
    let slots: NameTable<ModuleSlot>
    init(slots: NameTable<ModuleSlot>) { self.slots = slots }
}

/// One module's entry in the export table: its current version, swapped atomically.
@usableFromInline
final class ModuleSlot: Sendable {
    let name: String
    @usableFromInline let currentBits = Atomic<UInt>(0)

    init(name: String) { self.name = name }

    /// The current version's address, 0 for none: compared, never followed.
    @inlinable var currentAddress: UInt { currentBits.load(ordering: .acquiring) }

    /// Runs `body` on the current version, unretained; nil when none is.
    @inline(__always)
    func withCurrent<T>(_ body: (ModuleVersion) -> T) -> T? {
        let bits = currentBits.load(ordering: .acquiring)
        guard let raw = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged<ModuleVersion>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }

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

extension ExportTable {
    /// A typed handle on `module:function` for callers that know its Swift
    /// type: each call reaches the module's current version, with no terms.
    public func function<A, R>(_ module: String, _ function: String, _ type: ((A) throws -> R).Type) -> ExternalFunction<A, R> {
        ExternalFunction(slot: slotCreating(module), function: function)
    }
}

/// An external call with a known type: the typed path of the export table.
///
/// A call loads the slot's current version and the handle's cached
/// resolution with two atomic loads, and when both name the same version it
/// calls the function through an unretained reference: no lock, no
/// dictionary, no reference counting. A swap makes the next call resolve
/// again, once. The call is inlinable so that the caller's compiler
/// specializes it for `A` and `R` and the check costs a handful of
/// instructions in the caller's own code.
public final class ExternalFunction<A, R>: @unchecked Sendable {
    // @unchecked: the only mutable state is `resolvedBits`, an atomic.
    @usableFromInline let slot: ModuleSlot
    private let function: String
    @usableFromInline let resolvedBits = Atomic<UInt>(0)

    @usableFromInline
    final class Resolved {
        @usableFromInline let version: UInt
        @usableFromInline let body: @Sendable (A) throws -> R
        init(version: UInt, body: @escaping @Sendable (A) throws -> R) {
            self.version = version
            self.body = body
        }
    }

    init(slot: ModuleSlot, function: String) {
        self.slot = slot
        self.function = function
    }

    /// Calls the function in the module's current version.
    @inlinable
    public func callAsFunction(_ argument: A) throws -> R {
        let current = slot.currentAddress
        let bits = resolvedBits.load(ordering: .acquiring)
        if bits != 0, let raw = UnsafeRawPointer(bitPattern: bits) {
            let resolved = Unmanaged<Resolved>.fromOpaque(raw)
            if resolved._withUnsafeGuaranteedRef({ $0.version }) == current {
                return try resolved._withUnsafeGuaranteedRef { try $0.body(argument) }
            }
        }
        return try resolve()(argument)
    }

    /// Finds the function in the current version and caches it. Every
    /// resolution stays allocated for the node's life, like the versions
    /// themselves: a concurrent caller may still hold the previous one.
    @usableFromInline
    func resolve() throws -> @Sendable (A) throws -> R {
        // Read the version once and use its own address: a swap between the
        // caller's load and this one only means the newer version is cached.
        guard let version = slot.current else { throw CallError.undefinedModule(slot.name) }
        let address = UInt(bitPattern: Unmanaged.passUnretained(version).toOpaque())
        guard let export = version.exports[function]?.export else {
            throw CallError.undefinedFunction(module: slot.name, function: function)
        }
        guard let body = export.typed as? @Sendable (A) throws -> R else {
            throw CallError.badArgument(function: "\(slot.name):\(function)", index: 0, reason: "it is not of type (\(A.self)) -> \(R.self)")
        }
        let resolved = Unmanaged.passRetained(Resolved(version: address, body: body))
        resolvedBits.store(UInt(bitPattern: resolved.toOpaque()), ordering: .releasing)
        return body
    }
}
