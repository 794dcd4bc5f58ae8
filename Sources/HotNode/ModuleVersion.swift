import Hot

/// One loaded version of a module: its descriptor, its exports, where it came
/// from. Immutable once made; never freed, because its code is never unmapped.
public final class ModuleVersion: Sendable {
    /// The module's name.
    public let name: String
    /// The version number from the descriptor.
    public let version: Int
    /// The content key from the descriptor.
    public let key: String
    /// The commit the version was built from, if the build knew it.
    public let commit: String?
    /// The object file it was opened from.
    public let path: String
    /// The object's size: what staying mapped costs after a purge.
    public let bytes: Int
    /// When it was loaded, as seconds since the epoch.
    public let loadedAt: Double
    /// Its exports by name, each in a class of its own: a call reads the
    /// arity and the body in place, where a copy of the `Export` cost more
    /// than the lookup (callgrind).
    let exports: NameTable<ExportEntry>
    let module: HotModule
    /// Its async calls running now, and its call totals.
    public let calls = CallsInFlight()

    init(image: ModuleImage, module: HotModule, loadedAt: Double) {
        self.name = image.descriptor.name
        self.version = image.descriptor.version
        self.key = image.descriptor.key
        self.commit = image.descriptor.commit
        self.path = image.path
        self.bytes = image.bytes
        self.loadedAt = loadedAt
        self.module = module
        let calls = self.calls
        let name = image.descriptor.name
        self.exports = NameTable(module.exports.map { ($0.name, ExportEntry($0, module: name, calls: calls)) })
    }

    /// Calls one of its exports: a local call into this exact version. The
    /// function's own errors become `raised`; see `invoke` for the raw ones.
    func call(_ function: String, _ args: [Term]) throws(CallError) -> Term {
        do {
            return try invoke(function, args)
        } catch {
            throw callError(error, function)
        }
    }

    /// The same for a function of one argument, with no argument array.
    func call(_ function: String, argument: Term) throws(CallError) -> Term {
        do {
            return try export(function, taking: 1)._withUnsafeGuaranteedRef { entry in
                if let unary = entry.export.unary { return try unary(argument) }
                return try entry.body([argument])
            }
        } catch {
            throw callError(error, function)
        }
    }

    /// A call's error as the caller sees it: the function's own errors become `raised`.
    private func callError(_ error: any Error, _ function: String) -> CallError {
        (error as? CallError) ?? .raised(function: "\(name):\(function)", message: "\(error)")
    }
}

extension ModuleVersion {
    /// Calls an export with its errors as thrown, so that a process's
    /// `CodeSwitch` and cancellation reach its loop unwrapped.
    func invoke(_ function: String, _ args: [Term]) throws -> Term {
        try export(function, taking: args.count)._withUnsafeGuaranteedRef { try $0.body(args) }
    }

    /// The export `function`, unretained (it lives as long as the version),
    /// once it is known to take `count` arguments.
    @inline(__always)
    private func export(_ function: String, taking count: Int) throws(CallError) -> Unmanaged<ExportEntry> {
        guard let entry = exports.lookup(function) else { throw .undefinedFunction(module: name, function: function) }
        let arity = entry._withUnsafeGuaranteedRef { $0.export.arity }
        guard arity == count else { throw .wrongArity(function: "\(name):\(function)", expected: arity, got: count) }
        return entry
    }

    /// The server spec named `name`, if this version defines one.
    func server(_ name: String) -> ServerSpec? {
        module.servers.first { $0.name == name }
    }
}

/// One export of a loaded version.
final class ExportEntry: Sendable {
    let export: Export
    /// The body over terms: the export's own, or for an async export the
    /// node's bridge to it (`AsyncBridge`).
    let body: @Sendable ([Term]) throws -> Term

    init(_ export: Export, module: String, calls: CallsInFlight) {
        self.export = export
        if let asyncBody = export.asyncBody {
            self.body = AsyncBridge(function: "\(module):\(export.name)", body: asyncBody, calls: calls).call
        } else {
            self.body = export.body
        }
    }
}
