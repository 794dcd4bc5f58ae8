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
    /// Its exports by name.
    let exports: [String: Export]
    let module: HotModule

    init(image: Loader.Image, module: HotModule, loadedAt: Double) {
        self.name = image.descriptor.name
        self.version = image.descriptor.version
        self.key = image.descriptor.key
        self.commit = image.descriptor.commit
        self.path = image.path
        self.bytes = image.bytes
        self.loadedAt = loadedAt
        self.module = module
        self.exports = Dictionary(module.exports.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Calls one of its exports: a local call into this exact version. The
    /// function's own errors become `raised`; see `invoke` for the raw ones.
    func call(_ function: String, _ args: [Term]) throws(CallError) -> Term {
        do {
            return try invoke(function, args)
        } catch let error as CallError {
            throw error
        } catch {
            throw .raised(function: "\(name):\(function)", message: "\(error)")
        }
    }
}

extension ModuleVersion {
    /// Calls an export with its errors as thrown, so that a process's
    /// `CodeSwitch` and cancellation reach its loop unwrapped.
    func invoke(_ function: String, _ args: [Term]) throws -> Term {
        guard let export = exports[function] else { throw CallError.undefinedFunction(module: name, function: function) }
        guard export.arity == args.count else {
            throw CallError.wrongArity(function: "\(name):\(function)", expected: export.arity, got: args.count)
        }
        return try export.body(args)
    }

    /// The server spec named `name`, if this version defines one.
    func server(_ name: String) -> ServerSpec? {
        module.servers.first { $0.name == name }
    }
}
