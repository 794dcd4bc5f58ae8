import Hot
import HotPlatform
import HotProject

/// One swiftc run that builds one version of one module, as a value: tests
/// check `arguments`, the builder runs them.
public struct CompileJob: Sendable, Equatable {
    /// The module.
    public let module: String
    /// The version being built.
    public let version: Int
    /// The content key.
    public let key: String
    /// The module's sources, absolute.
    public let sources: [String]
    /// The generated entry file, absolute.
    public let entryFile: String
    /// Where swiftc writes; renamed to `output` only on success.
    public let temporaryOutput: String
    /// The final object path.
    public let output: String
    /// The generated entry's source text.
    public let entrySource: String
    /// swiftc's arguments (without argv[0]).
    public let arguments: [String]

    /// Plans the job.
    public init(module: String, version: Int, key: String, sources: [String], buildDirectory: String,
                toolchain: Toolchain, flags: [String], release: Bool, commit: String?, host: HostBuild? = nil) {
        self.module = module
        self.version = version
        self.key = key
        self.sources = sources
        let name = ArtifactName(module: module, version: version, key: key)
        let code = CodePath(buildDirectory)
        self.output = code.builtPath(module: module, file: name.fileName)
        self.temporaryOutput = code.temporaryPath(module: module, file: name.fileName)
        self.entryFile = code.entryFile(module: module, version: version)
        let descriptor = ModuleDescriptor(
            abi: HotSDK.abiVersion, sdk: HotSDK.fingerprint, compiler: toolchain.version, name: module,
            version: version, key: key, commit: commit, host: host?.fingerprint)
        self.entrySource = descriptor.entrySource
        // Each version gets its own Swift module name, so no runtime lookup by
        // mangled name can reach the wrong version (docs/ARCHITECTURE.md, "Fact: name-per-version"). The SDK
        // is found by -I and not linked: the node's one copy serves (fact 6).
        // -wmo: one frontend for all the files. The driver's default runs one
        // per file (each parsing every file and loading the SDK again); a
        // one-file module with its entry file compiled in 0.36 s instead of
        // 0.46 s, and the builder already runs modules side by side.
        // With a host, the SDK and every library come from the host's build
        // instead, through a folder of only the modules it links, and are not
        // linked either: the module binds to the host's one copy of each
        // (docs/ARCHITECTURE.md, "Host modules").
        // -z now: the node opens every object RTLD_NOW anyway, and bound
        // now, the linker puts .got.plt inside RELRO, read-only after the
        // load ("full RELRO"); the writable page left then also holds .bss,
        // where it took an anonymous page of its own: 3 mappings a version
        // instead of 4 (docs/ARCHITECTURE.md, "Fact: never-close").
        self.arguments =
            ["-emit-library", "-parse-as-library", "-swift-version", "6", "-wmo", "-module-name", ModuleDescriptor.swiftModuleName(module, version: version),
             "-I", host?.modulesDirectory ?? toolchain.sdkModules, release ? "-O" : "-Onone"]
            + Self.linkerFlags
            + (host?.clangFlags ?? []) + flags + sources + [entryFile, "-o", temporaryOutput]
    }

    /// Options for the linker, the same through the driver and the direct
    /// build (which learns the linker's line from the driver).
    static let linkerFlags = ["-Xlinker", "-z", "-Xlinker", "now"]
}
