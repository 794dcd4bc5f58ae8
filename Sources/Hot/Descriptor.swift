/// The facts a version states about itself, readable before any of its
/// Swift code runs.
///
/// The generated `hot_module_descriptor` returns these as static text, one
/// `key value` pair a line, so that a node can read them from an object built
/// against any SDK, with any layout of any Swift type, and refuse a mismatch
/// by naming both sides.
public struct ModuleDescriptor: Sendable, Equatable {
    /// The entry convention's version (`HotSDK.abiVersion` at build time).
    public var abi: Int
    /// The SDK the module was compiled against (`HotSDK.fingerprint`).
    public var sdk: String
    /// The Swift compiler version that built it.
    public var compiler: String
    /// The module's name, without the version suffix.
    public var name: String
    /// The version number, counting up per module.
    public var version: Int
    /// The content key the build computed for these sources.
    public var key: String
    /// The commit the sources were built from, `+dirty` when the work tree differed.
    public var commit: String?
    /// The fingerprint of the host executable the module was compiled
    /// against (its GNU build-id); nil for a module that needs no host
    /// beyond the SDK. A node whose own executable differs refuses it.
    public var host: String?

    /// A descriptor from its fields.
    public init(abi: Int, sdk: String, compiler: String, name: String, version: Int, key: String, commit: String? = nil,
                host: String? = nil) {
        self.abi = abi
        self.sdk = sdk
        self.compiler = compiler
        self.name = name
        self.version = version
        self.key = key
        self.commit = commit
        self.host = host
    }

    /// The text the generated entry embeds.
    public func render() -> String {
        var text = "hot-module\nabi \(abi)\nsdk \(sdk)\ncompiler \(compiler)\nname \(name)\nversion \(version)\nkey \(key)\n"
        if let commit { text += "commit \(commit)\n" }
        if let host { text += "host \(host)\n" }
        return text
    }

    /// Reads the text `render` writes; nil when it is not a descriptor.
    public init?(parsing text: String) {
        // By bytes: split by Character (grapheme breaking), this took about
        // 60,000 instructions, twice a load.
        var fields: [Substring: Substring] = [:]
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"))
        guard let first = lines.first, Substring(first) == "hot-module" else { return nil }
        for line in lines.dropFirst() {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { return nil }
            fields[Substring(line[..<space])] = Substring(line[line.index(after: space)...])
        }
        guard let abi = fields["abi"].flatMap({ Int($0) }),
            let sdk = fields["sdk"], let compiler = fields["compiler"], let name = fields["name"],
            let version = fields["version"].flatMap({ Int($0) }), let key = fields["key"]
        else { return nil }
        self.init(
            abi: abi, sdk: String(sdk), compiler: String(compiler), name: String(name),
            version: version, key: String(key), commit: fields["commit"].map(String.init),
            host: fields["host"].map(String.init))
    }
}

/// The SDK's identity, checked by a node against every module it loads.
public enum HotSDK {
    /// The entry convention: bump when `hot_module_*` or `ModuleEntry` changes shape.
    public static let abiVersion = 1
    /// Whether `name` is a valid module name: `[a-z][a-z0-9_]*`, at most 64 bytes.
    public static func isValidModuleName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 64, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return false }
        return bytes.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                || b == UInt8(ascii: "_")
        }
    }
}

/// The symbol a node looks up in its own process (`dlsym(RTLD_DEFAULT,
/// "hot_sdk_exported")`) before it serves: found only when the executable
/// exports its symbols (`-Xlinker --export-dynamic`), as modules need to bind
/// to its one copy of the SDK. Returns the ABI version; not for modules.
@_cdecl("hot_sdk_exported")
public func _hotSDKExported() -> Int { HotSDK.abiVersion }

extension ModuleDescriptor {
    /// The Swift module a version is compiled as, `hello_v3`: each version
    /// its own, so no lookup by mangled name reaches another version
    /// (docs/ARCHITECTURE.md, "Fact: name-per-version"). `CallSite` reads
    /// the version back from `#fileID`.
    public static func swiftModuleName(_ name: String, version: Int) -> String { "\(name)_v\(version)" }

    /// The entry file `hot build` compiles into each version: the descriptor
    /// as static text, readable before any Swift code of the module runs, and
    /// the hand-off of the module's exports (docs/ARCHITECTURE.md, "The
    /// module ABI").
    public var entrySource: String {
        entryFile(writer: "hot build for \(name) v\(version)", descriptorSymbol: "hot_module_descriptor", entrySymbol: "hot_module_entry")
    }
}

extension ModuleDescriptor {
    /// `render()` as the inside of a Swift string literal.
    private var renderedLiteral: String {
        var text = ""
        for c in render() {
            switch c {
            case "\n": text += "\\n"
            case "\\": text += "\\\\"
            case "\"": text += "\\\""
            default: text.append(c)
            }
        }
        return text
    }

    /// The prefix of the C symbol by which a host's executable hands a node
    /// each built-in module's exports (docs/ARCHITECTURE.md, "Built-in versions").
    public static let builtinEntryPrefix = "hot_builtin_entry_"
    /// The prefix of the C symbol of a built-in module's descriptor.
    public static let builtinDescriptorPrefix = "hot_builtin_descriptor_"

    /// Whether `name` could be a version's Swift module name, `hello_v3`:
    /// a module of that name compiled into a host as a built-in target
    /// would be one Swift module with version 3 of `hello`
    /// (docs/ARCHITECTURE.md, "Fact: name-per-version").
    public static func looksVersioned(_ name: String) -> Bool {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1, let last = parts.last, last.first == "v" else { return false }
        let digits = last.dropFirst()
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The file the HotModuleEntry plugin compiles into a module that is a
    /// target of the host's package: the same hand-off as `entrySource`
    /// under symbols named after the module, since one executable links
    /// every built-in module, and the descriptor of version 0.
    public var builtinEntrySource: String {
        entryFile(
            writer: "the HotModuleEntry plugin for \(name), built in", descriptorSymbol: Self.builtinDescriptorPrefix + name,
            entrySymbol: Self.builtinEntryPrefix + name)
    }

    /// An entry file: the descriptor as static text under the C name
    /// `descriptorSymbol`, and the hand-off under `entrySymbol`.
    private func entryFile(writer: String, descriptorSymbol: String, entrySymbol: String) -> String {
        """
        // Generated by \(writer); not to be edited.
        import Hot

        @_cdecl("\(descriptorSymbol)")
        public func hot_module_descriptor() -> UnsafeRawPointer {
            let text: StaticString = "\(renderedLiteral)"
            return UnsafeRawPointer(text.utf8Start)
        }

        @_cdecl("\(entrySymbol)")
        public func hot_module_entry() -> UnsafeMutableRawPointer {
            ModuleEntry.handOff(module)
        }

        """
    }
}
