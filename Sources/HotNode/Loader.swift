#if canImport(Glibc)
import Glibc
#endif
import Hot

/// Opens module objects. Never closes one: a Swift image's conformance records
/// stay registered with the runtime, and unmapping them crashes the next
/// dynamic cast (docs/ARCHITECTURE.md, "Fact: never-close"). Purge is therefore logical.
enum Loader {
    /// An opened object whose descriptor matched this node.
    struct Image: @unchecked Sendable {
        // @unchecked: the handle is an opaque token that is never closed.
        let handle: UnsafeMutableRawPointer
        let descriptor: ModuleDescriptor
        let path: String
        let bytes: Int
    }

    /// `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)`, then the descriptor
    /// checks; no Swift code of the module runs here.
    static func open(_ path: String) throws(LoadError) -> Image {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .noFile(path) }
        guard isELF(path) else { throw .badFile(path: path, reason: "not an ELF shared object") }
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw .badFile(path: path, reason: explain(lastDLError()))
        }
        guard let describe = symbol(handle, "hot_module_descriptor") else {
            throw .badFile(path: path, reason: "no hot_module_descriptor symbol (not built by hot build)")
        }
        typealias DescriptorFunction = @convention(c) () -> UnsafePointer<CChar>
        let text = String(cString: unsafeBitCast(describe, to: DescriptorFunction.self)())
        guard let descriptor = ModuleDescriptor(parsing: text) else {
            throw .badFile(path: path, reason: "unreadable module descriptor")
        }
        if descriptor.abi != HotSDK.abiVersion {
            throw .mismatch(field: "ABI version", expected: "\(HotSDK.abiVersion)", found: "\(descriptor.abi)")
        }
        if descriptor.sdk != HotSDK.fingerprint {
            throw .mismatch(field: "SDK", expected: HotSDK.fingerprint, found: descriptor.sdk)
        }
        if descriptor.compiler != HotSDK.compiler {
            throw .mismatch(field: "compiler", expected: HotSDK.compiler, found: descriptor.compiler)
        }
        return Image(handle: handle, descriptor: descriptor, path: path, bytes: Int(info.st_size))
    }

    /// Runs the module's entry: from here on the module's own code runs.
    static func enter(_ image: Image) throws(LoadError) -> HotModule {
        guard let entry = symbol(image.handle, "hot_module_entry") else {
            throw .badFile(path: image.path, reason: "no hot_module_entry symbol")
        }
        typealias EntryFunction = @convention(c) () -> UnsafeMutableRawPointer
        let pointer = unsafeBitCast(entry, to: EntryFunction.self)()
        // A module linked against its own copy of the SDK hands back an object
        // whose class is not this node's ModuleEntry; casting it would crash
        // later, so compare the isa pointer first (docs/ARCHITECTURE.md, "Fact: one-SDK").
        let isa = pointer.load(as: UnsafeRawPointer.self)
        let expected = unsafeBitCast(ModuleEntry.self as AnyClass, to: UnsafeRawPointer.self)
        guard isa == expected else {
            throw .badFile(
                path: image.path,
                reason: "the module carries its own copy of the Hot SDK; build it with hot build, which compiles against the node's SDK without linking it")
        }
        return ModuleEntry.receive(pointer).module
    }

    private static func symbol(_ handle: UnsafeMutableRawPointer, _ name: String) -> UnsafeMutableRawPointer? {
        _ = dlerror()
        return dlsym(handle, name)
    }

    private static func lastDLError() -> String {
        guard let message = dlerror() else { return "dlopen failed" }
        return String(cString: message)
    }

    /// Turns the one dlopen failure a misbuilt host causes into advice.
    private static func explain(_ message: String) -> String {
        if message.contains("undefined symbol: $s3Hot") {
            return message
                + " (this node does not export the Hot SDK: link it with -Xlinker --export-dynamic)"
        }
        return message
    }

    private static func isELF(_ path: String) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        return n == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
    }
}
