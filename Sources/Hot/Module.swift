/// What a hot module declares: its exports and an optional on-load hook.
///
/// Each module defines one of these as a top-level `let module`; the build's
/// generated entry hands it to the node only after the node has checked the
/// module's descriptor, so none of this runs in a node that would refuse it.
public struct HotModule: Sendable {
    /// The functions external calls can reach.
    public let exports: [Export]
    /// Runs once when a version is loaded, before it becomes current; if it
    /// throws, the version never becomes current (Erlang's `-on_load`).
    public let onLoad: (@Sendable () throws -> Void)?
    /// The servers (gen_server behaviours) the module defines.
    public let servers: [ServerSpec]

    /// Declares a module from its exports, servers and an optional on-load hook.
    public init(exports: [Export], servers: [ServerSpec] = [], onLoad: (@Sendable () throws -> Void)? = nil) {
        self.exports = exports
        self.servers = servers
        self.onLoad = onLoad
    }
}

/// The bridge between a module's generated entry and the node.
///
/// The module and the node share one copy of this type (the node's), so a
/// reference can cross the C boundary of `hot_module_entry` as a raw pointer.
public final class ModuleEntry: Sendable {
    /// The module's declaration, as its version built it.
    public let module: HotModule

    init(module: HotModule) { self.module = module }

    /// Called by the generated `hot_module_entry`: hands the node one retain.
    public static func handOff(_ module: HotModule) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(ModuleEntry(module: module)).toOpaque()
    }

    /// Called by the node on the pointer `hot_module_entry` returned: takes the retain back.
    public static func receive(_ pointer: UnsafeMutableRawPointer) -> ModuleEntry {
        Unmanaged<ModuleEntry>.fromOpaque(pointer).takeRetainedValue()
    }
}
