import Synchronization

/// A reference that lock-free readers follow without retaining it: the one
/// place the node's unretained reads come from (the export table's modules,
/// each module's current version, a typed handle's cached resolution, and
/// the SDK's `Runtime`, which module code reads). It lives in the SDK so that
/// `Runtime` keeps the same rule through the same type; `package` keeps it
/// out of what a module sees.
///
/// The invariant those reads rely on, kept here and nowhere else: **an object
/// once published is never freed.** `publish` takes a reference it never
/// gives back, and nothing outside this file stores into the atomic (it is
/// `package` only so that the readers inline), so no code can store an object this
/// type did not retain first. The cost is a few small objects per load, kept
/// as long as the node runs, as the code they describe stays mapped anyway
/// (docs/ARCHITECTURE.md, "Retained for the node's life"; fact never-close).
/// In return a reader borrows the object in place (`withObject`) or compares
/// its address (`address`) with no reference counting, which is what keeps
/// an external call free of ARC (docs/ARCHITECTURE.md,
/// "Fact: no-ARC-on-call-path"). `Atomic<Unmanaged<T>?>` compiles to the same plain
/// load as an `Atomic<UInt>` of the bit pattern did.
@usableFromInline
package struct Published<Object: AnyObject & Sendable>: ~Copyable, Sendable {
    @usableFromInline package let cell: Atomic<Unmanaged<Object>?>

    /// A cell holding `object` (retained for good), or nothing.
    package init(_ object: Object? = nil) {
        cell = Atomic(object.map { Unmanaged.passRetained($0) })
    }

    /// Makes `object` what readers see from now on. It is retained for good:
    /// a reader may still hold the object this replaces, unretained, and so
    /// may a later reader of `object` after the next publication.
    package func publish(_ object: Object?) {
        cell.store(object.map { Unmanaged.passRetained($0) }, ordering: .releasing)
    }

    /// Runs `body` on the published object, borrowed without a retain; nil when none is.
    @inlinable @inline(__always)
    package func withObject<T, E: Error>(_ body: (Object) throws(E) -> T) throws(E) -> T? {
        guard let object = cell.load(ordering: .acquiring) else { return nil }
        // `_withUnsafeGuaranteedRef` rethrows untyped; a `Result` keeps `E`.
        return try object._withUnsafeGuaranteedRef { object in Result { () throws(E) in try body(object) } }.get()
    }

    /// The published object as an ordinary (retained) reference, for paths
    /// that keep it; nil when none is.
    package var object: Object? {
        cell.load(ordering: .acquiring)?.takeUnretainedValue()
    }

    /// The published object, for a reader that keeps it in an
    /// `unowned(unsafe)` variable across an `await`: no retain; nil when none is.
    @inlinable
    package var unretained: Object? {
        cell.load(ordering: .acquiring)?.takeUnretainedValue()
    }

    /// The published object's address, 0 for none: compared, never followed.
    @inlinable
    package var address: UInt {
        cell.load(ordering: .acquiring).map { UInt(bitPattern: $0.toOpaque()) } ?? 0
    }

    /// The address `address` reports while `object` is the one published.
    @inlinable
    package static func address(of object: Object) -> UInt {
        UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
    }
}
