import Hot
import HotPlatform
import Logging

/// Where external calls find a module's current version.
///
/// A call reads the table with atomic loads and no lock and no retain: the
/// map of slots and each slot's current version are `Published`, so whatever
/// a reader finds stays alive for the node's life. Only the code server
/// publishes versions (`publish(_:as:)`).
public final class ExportTable: @unchecked Sendable {
    // @unchecked: `onMiss` and `logger` are set once, before the node serves anything.
    private let slots = Published(SlotMap(slots: NameTable([])))
    /// Serializes the making of slots (the code server's loads and callers
    /// of `function` may both add one); a leaf in the lock order
    /// (docs/ARCHITECTURE.md, "Lock order"). Readers never take it.
    private let addingSlot = Locked(())
    /// Interactive mode's hook: asked to load a module a call found missing.
    var onMiss: (@Sendable (String) -> Bool)?
    /// Where typed handles report the calls they could not make.
    var logger: Logger?

    init() {}

    /// The slot of `module`, or nil if the node never saw it.
    func slot(_ module: String) -> ModuleSlot? {
        slots.withObject { $0.slots[module] } ?? nil
    }

    /// The slot of `module`, made (and published) if new.
    func slotCreating(_ module: String) -> ModuleSlot {
        if let slot = slot(module) { return slot }
        return addingSlot.withLock { _ in
            let pairs = slots.object?.slots.pairs ?? []
            if let slot = pairs.first(where: { $0.0 == module })?.1 { return slot }
            let slot = ModuleSlot(name: module)
            slots.publish(SlotMap(slots: NameTable(pairs + [(module, slot)])))
            return slot
        }
    }

    /// Makes `version` the one external calls to `module` reach; nil: none
    /// (a deleted module). Called by the code server, under its state lock.
    func publish(_ version: ModuleVersion?, as module: String) {
        slotCreating(module).current.publish(version)
    }

    /// The module's current version; in interactive mode, loaded on demand
    /// when none is (for spawns as for calls, as Erlang's interactive mode).
    func currentLoading(_ module: String) -> ModuleVersion? {
        if let version = current(module) { return version }
        guard let onMiss, onMiss(module) else { return nil }
        return current(module)
    }

    /// The module's current version, as it is now; nil when none is.
    func current(_ module: String) -> ModuleVersion? { slot(module)?.current.object }

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
        // The common case borrows the map, the slot and the version (all
        // published, so alive as long as the node): no reference counting.
        let found = try slots.withObject { (map) throws(CallError) -> Term? in
            try map.slots.lookup(module)?._withUnsafeGuaranteedRef { slot in
                Result { () throws(CallError) in try slot.current.withObject(body) }
            }.get()
        }
        if case .some(.some(let result)) = found { return result }
        guard let onMiss, onMiss(module), let version = current(module) else { throw .undefinedModule(module) }
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
    /// The version external calls reach; none before the first load and after a delete.
    @usableFromInline let current = Published<ModuleVersion>()
    /// What the live typed handles on this module call: a load must keep it.
    let demands = ExportDemands()

    init(name: String) { self.name = name }
}

extension ExportTable {
    /// A typed handle on `module:function` for callers that know its Swift
    /// type: each call reaches the module's current version, with no terms.
    public func function<A, R>(_ module: String, _ function: String, _ type: ((A) throws -> R).Type) -> ExternalFunction<A, R> {
        ExternalFunction(slot: slotCreating(module), function: function, failures: failureLog(module, function))
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
public final class ExternalFunction<A, R>: Sendable {
    @usableFromInline let slot: ModuleSlot
    private let function: String
    /// The last resolution; each one is published, so it outlives every caller still running it.
    @usableFromInline let resolved = Published<Resolved>()
    private let demand: UInt64
    private let failures: CallFailureLog

    /// A function of one version, and that version's address.
    @usableFromInline
    final class Resolved: Sendable {
        @usableFromInline let version: UInt
        @usableFromInline let body: @Sendable (A) throws -> R
        init(version: UInt, body: @escaping @Sendable (A) throws -> R) {
            self.version = version
            self.body = body
        }
    }

    init(slot: ModuleSlot, function: String, failures: CallFailureLog) {
        self.slot = slot
        self.function = function
        self.failures = failures
        demand = slot.demands.add(
            ExportDemand(function: function, type: ExportType((@Sendable (A) throws -> R).self)) { $0.typed is @Sendable (A) throws -> R })
    }

    deinit { slot.demands.withdraw(demand) }

    /// Calls the function in the module's current version.
    @inlinable
    public func callAsFunction(_ argument: A) throws -> R {
        let current = slot.current.address
        // nil from the closure: the cached resolution is of another version.
        let cached = try resolved.withObject { resolution -> R? in
            resolution.version == current ? try resolution.body(argument) : nil
        }
        if case .some(.some(let result)) = cached { return result }
        return try resolve()(argument)
    }

    /// Finds the function in the current version and caches it.
    @usableFromInline
    func resolve() throws -> @Sendable (A) throws -> R {
        // Read the version once and use its own address: a swap between the
        // caller's load and this one only means the newer version is cached.
        let (version, body) = try failures.reporting { () throws(CallError) in
            try typedExport(slot, function, as: (@Sendable (A) throws -> R).self)
        }
        resolved.publish(Resolved(version: Published.address(of: version), body: body))
        return body
    }
}
