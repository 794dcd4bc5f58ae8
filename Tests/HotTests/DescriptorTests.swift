import Hot
import HotPlatform
import Testing

private let sample = ModuleDescriptor(
    abi: 1, sdk: "a91cc7143e331e54", compiler: "6.3.1", name: "chat_room", version: 12,
    key: String(repeating: "0f", count: 32))

/// The package root: three levels above this file (Tests/HotTests/DescriptorTests.swift).
private func packageRoot(_ file: String = #filePath) -> String {
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}

@Suite struct DescriptorTests {
    @Test func roundTripWithoutCommit() throws {
        let text = sample.render()
        #expect(text.hasPrefix("hot-module\n"))
        #expect(!text.contains("commit"))
        let parsed = try #require(ModuleDescriptor(parsing: text))
        #expect(parsed == sample)
        #expect(parsed.commit == nil)
    }

    @Test func roundTripWithCommit() throws {
        for commit in ["4b825dc642cb6eb9a060e54bf8d69288fbee4904", "4b825dc642cb+dirty"] {
            var descriptor = sample
            descriptor.commit = commit
            let text = descriptor.render()
            #expect(text.contains("\ncommit \(commit)\n"))
            #expect(ModuleDescriptor(parsing: text) == descriptor)
        }
    }

    @Test func renderIsOneKeyValuePairALine() {
        #expect(
            sample.render()
                == "hot-module\nabi 1\nsdk a91cc7143e331e54\ncompiler 6.3.1\nname chat_room\nversion 12\nkey \(sample.key)\n")
    }

    @Test func parseRefusesTextWithoutHeader() {
        let body = sample.render().dropFirst("hot-module\n".count)
        #expect(ModuleDescriptor(parsing: String(body)) == nil)
        #expect(ModuleDescriptor(parsing: "hot-modules\n" + body) == nil)
        #expect(ModuleDescriptor(parsing: "") == nil)
        #expect(ModuleDescriptor(parsing: "\u{7f}ELF") == nil)
    }

    @Test(arguments: ["abi", "sdk", "compiler", "name", "version", "key"])
    func parseRefusesMissingField(_ field: String) {
        let lines = sample.render().split(separator: "\n").filter { !$0.hasPrefix(field + " ") }
        #expect(lines.count == 6)
        #expect(ModuleDescriptor(parsing: lines.joined(separator: "\n") + "\n") == nil)
    }

    @Test func parseRefusesNonNumbersAndBareLines() {
        #expect(ModuleDescriptor(parsing: sample.render().replacingVersion(with: "twelve")) == nil)
        #expect(ModuleDescriptor(parsing: sample.render() + "garbage\n") == nil)
    }

    @Test(arguments: ["a", "chat_room2", "z9", "a_", String(repeating: "m", count: 64)])
    func validModuleNames(_ name: String) {
        #expect(HotSDK.isValidModuleName(name))
    }

    @Test(arguments: [
        "", "A", "Chat", "1a", "_a", "a-b", "a/b", "..", "a.b", "a b", "é", "chat\n",
        String(repeating: "m", count: 65),
    ])
    func invalidModuleNames(_ name: String) {
        #expect(!HotSDK.isValidModuleName(name))
    }

    @Test func committedFingerprintIsCurrent() throws {
        // The same computation as scripts/fingerprint.sh: sha256 of the SDK
        // sources but SDKFingerprint.swift, concatenated in C-locale name order.
        let folder = packageRoot() + "/Sources/Hot"
        let names = listDirectory(folder)
            .filter { $0.hasSuffix(".swift") && $0 != "SDKFingerprint.swift" }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        try #require(names.contains("Descriptor.swift"), "Sources/Hot not found at \(folder)")
        var hasher = SHA256Hasher()
        for name in names {
            hasher.update(try #require(readFile("\(folder)/\(name)"), "cannot read \(name)"))
        }
        let fingerprint = String(hasher.hexDigest().prefix(16))
        #expect(
            fingerprint == HotSDK.fingerprint,
            "Sources/Hot changed since SDKFingerprint.swift was written: run scripts/fingerprint.sh")
    }
}

extension String {
    /// The rendered descriptor with its version line's value replaced.
    fileprivate func replacingVersion(with value: String) -> String {
        split(separator: "\n").map { $0.hasPrefix("version ") ? "version \(value)" : String($0) }.joined(separator: "\n")
    }
}

@Suite struct HostDescriptorTests {
    @Test func hostRoundTripsAndIsAbsentWithoutOne() throws {
        var descriptor = sample
        descriptor.host = "5f1c0a7e9b2d4c6e8f0a1b3c5d7e9f0a1b2c3d4e"
        let text = descriptor.render()
        #expect(text.hasSuffix("\nhost \(descriptor.host!)\n"))
        #expect(ModuleDescriptor(parsing: text) == descriptor)
        #expect(!sample.render().contains("host"))
        #expect(try #require(ModuleDescriptor(parsing: sample.render())).host == nil)
    }
}

@Suite struct BuiltinDescriptorTests {
    @Test(arguments: ["hello_v3", "a_v0", "chat_room_v12"])
    func versionedNamesAreRefused(_ name: String) {
        #expect(ModuleDescriptor.looksVersioned(name))
    }

    @Test(arguments: ["hello", "v3", "hello_v", "hello_v3a", "hello_va", "hello_3", "hello_v3_x"])
    func otherNamesAreNot(_ name: String) {
        #expect(!ModuleDescriptor.looksVersioned(name))
    }

    @Test func builtinEntryNamesItsSymbolsAfterTheModuleAndEmbedsTheDescriptor() {
        var descriptor = sample
        descriptor.version = 0
        let source = descriptor.builtinEntrySource
        #expect(source.contains("@_cdecl(\"hot_builtin_descriptor_\(descriptor.name)\")"))
        #expect(source.contains("@_cdecl(\"hot_builtin_entry_\(descriptor.name)\")"))
        #expect(!source.contains("@_cdecl(\"hot_module_entry\")"), "a hot version's symbol would clash between two built-in modules")
        #expect(source.contains("hot-module\\nabi \(descriptor.abi)\\n"))
        #expect(source.contains("ModuleEntry.handOff(module)"))
        #expect(sample.entrySource.contains("@_cdecl(\"hot_module_entry\")"))
    }
}
