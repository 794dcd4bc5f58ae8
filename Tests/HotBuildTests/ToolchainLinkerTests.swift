#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Testing

@testable import HotBuild

/// Host patches link with the toolchain's lld when it has one, laid out as gold would.
@Suite("Toolchain: the linker of host patches")
struct ToolchainLinkerTests {
    private func temporaryFolder() throws -> String {
        var template = Array("/tmp/hot-linker-XXXXXX".utf8CString)
        return try #require(mkdtemp(&template).map { String(cString: $0) })
    }

    @Test("lld is chosen only when ld.lld sits beside the compiler swiftc resolves to")
    func lldBesideSwiftc() throws {
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        try makeDirectories(folder + "/toolchain/bin")
        let swiftc = folder + "/toolchain/bin/swiftc"
        try writeFileAtomically(swiftc, Array("#!/bin/sh\n".utf8))
        chmod(swiftc, 0o755)
        // Found by a link elsewhere on PATH, as /usr/bin/swiftc often is.
        try makeDirectories(folder + "/usr/bin")
        #expect(symlink(swiftc, folder + "/usr/bin/swiftc") == 0)
        let linked = Toolchain(swiftc: folder + "/usr/bin/swiftc", version: "6.3.1", sdkModules: folder)
        #expect(linked.lldFlags == [])

        try writeFileAtomically(folder + "/toolchain/bin/ld.lld", Array("#!/bin/sh\n".utf8))
        chmod(folder + "/toolchain/bin/ld.lld", 0o755)
        #expect(linked.lldFlags.first == "-use-ld=lld")
        #expect(Toolchain(swiftc: swiftc, version: "6.3.1", sdkModules: folder).lldFlags == linked.lldFlags)
        // An ld.lld beside the link, not the compiler, is not the one clang runs.
        unlink(folder + "/toolchain/bin/ld.lld")
        try writeFileAtomically(folder + "/usr/bin/ld.lld", Array("#!/bin/sh\n".utf8))
        chmod(folder + "/usr/bin/ld.lld", 0o755)
        #expect(linked.lldFlags == [])
    }

    @Test("a module linked with lldFlags costs the process as many mappings and bytes as one linked by gold")
    func sameMappingsAsGold() throws {
        guard let found = findExecutable("swiftc") else {
            Issue.record("swiftc not on PATH")
            return
        }
        let toolchain = Toolchain(swiftc: found, version: HotSDK.compiler, sdkModules: "")
        // A toolchain without lld links with gold, which this compares with.
        guard !toolchain.lldFlags.isEmpty else { return }
        let folder = try temporaryFolder()
        defer { removeTree(folder) }
        // Data, .bss and a class: what a patch's object holds.
        try writeFileAtomically(
            folder + "/m.swift",
            Array("""
                final class Box: Sendable { let value: Int; init(_ value: Int) { self.value = value } }
                let boxes: [Box] = [Box(1), Box(2)]
                nonisolated(unsafe) var total = 0
                @_cdecl("linker_probe") public func linkerProbe() -> Int { total += boxes.count; return total }

                """.utf8))
        func mapped(_ name: String, _ flags: [String]) throws -> (mappings: Int, bytes: Int) {
            let output = folder + "/" + name + ".so"
            // The driver leaves a folder in TMPDIR: this one, removed after.
            let environment = currentEnvironment().filter { !$0.hasPrefix("TMPDIR=") } + ["TMPDIR=\(folder)"]
            let capture = try Subprocess.spawn(
                found, ["-emit-library", "-parse-as-library", "-Onone"] + CompileJob.linkerFlags + flags + [folder + "/m.swift", "-o", output],
                environment: environment
            ).waitCapturing(limit: 1 << 16, timeout: .seconds(120))
            #expect(capture.status == 0, "\(capture.output)")
            let handle = dlopen(output, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
            #expect(handle != nil, "\(String(cString: dlerror()))")
            let span = try #require(loadedSpan(of: output), "\(output) is not among the loaded objects")
            // Every mapping inside the object's span: its own, and the
            // anonymous one of a .bss that does not fit its data page.
            var mappings = 0
            var bytes = 0
            for line in String(decoding: readFile("/proc/self/maps") ?? [], as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                let range = fields.first.map { $0.split(separator: "-").compactMap { UInt($0, radix: 16) } } ?? []
                guard range.count == 2, range[0] < span.upperBound, range[1] > span.lowerBound else { continue }
                mappings += 1
                bytes += Int(range[1] - range[0])
            }
            return (mappings, bytes)
        }
        let gold = try mapped("gold", [])
        let lld = try mapped("lld", toolchain.lldFlags)
        #expect(gold.mappings == 3)
        #expect(lld.mappings == gold.mappings)
        #expect(lld.bytes == gold.bytes)
        // What the two layout options are for: lld's own layout costs more.
        let lldDefault = try mapped("lld-default", ["-use-ld=lld"])
        #expect(lldDefault.mappings > gold.mappings)
    }

    /// The addresses a loaded object's segments take, whole pages: from
    /// where its first mapping starts (its first segment is at address 0)
    /// to the end of its last segment in memory, read from its program headers.
    private func loadedSpan(of path: String) -> Range<UInt>? {
        let maps = String(decoding: readFile("/proc/self/maps") ?? [], as: UTF8.self).split(separator: "\n")
        guard let first = maps.first(where: { $0.hasSuffix(" " + path) }),
            let base = first.split(separator: "-").first.flatMap({ UInt($0, radix: 16) }),
            let elf = readFile(path), elf.count >= 64
        else { return nil }
        func number(_ at: Int, _ size: Int) -> UInt {
            (0..<size).reduce(UInt(0)) { $0 | UInt(elf[at + $1]) << (8 * $1) }
        }
        let (offset, size, count) = (Int(number(0x20, 8)), Int(number(0x36, 2)), Int(number(0x38, 2)))
        guard offset + size * count <= elf.count else { return nil }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        var end: UInt = 0
        for header in 0..<count where number(offset + header * size, 4) == 1 {  // PT_LOAD
            end = max(end, number(offset + header * size + 0x10, 8) + number(offset + header * size + 0x28, 8))
        }
        return base..<(base + (end + page - 1) & ~(page - 1))
    }
}
