import Hot
import HotPlatform

/// Hot modules that the host's package also compiled and linked into its
/// executable (the HotModuleEntry plugin): each is its module's version 0,
/// the built-in version, served from the first moment with no object file,
/// no trial and no host check, since it is the running executable's own
/// code (docs/ARCHITECTURE.md, "Built-in versions"). A code server names one
/// by the path `builtin:NAME`, which `Loader` resolves by `dlsym` in the
/// process itself; nothing of it is ever mapped or unmapped.
enum BuiltinModules {
    /// The scheme of a built-in version's path.
    static let scheme = "builtin:"

    /// The path a code server loads `module`'s built-in version by.
    static func path(_ module: String) -> String { scheme + module }

    /// The module a built-in path names; nil for an object file's path.
    static func module(of path: String) -> String? {
        path.hasPrefix(scheme) ? String(path.dropFirst(scheme.count)) : nil
    }

    /// The modules this process's executable has built in, sorted, read once
    /// from its dynamic symbols (where `--export-dynamic` puts each module's
    /// `hot_builtin_entry_NAME`). /proc/self/exe is the image that runs,
    /// even after a rebuild replaced the file.
    static let linked: [String] = {
        let prefix = ModuleDescriptor.builtinEntryPrefix
        let symbols = (try? ELFNotes.dynamicSymbols(withPrefix: prefix, ofFile: "/proc/self/exe")) ?? []
        return Set(symbols.map { String($0.dropFirst(prefix.count)) }).filter(HotSDK.isValidModuleName).sorted()
    }()
}
