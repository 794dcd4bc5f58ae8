import Foundation
import Testing

@testable import HotPlatform

/// The ELF note reader against readelf, on this test's own executable.
@Suite("BuildID")
struct BuildIDTests {
    @Test func readsTheSameBuildIDAsReadelf() throws {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["readelf", "-n", exe]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let line = try #require(text.split(separator: "\n").first { $0.contains("Build ID:") })
        let expected = String(try #require(line.split(separator: " ").last))
        #expect(try ELFNotes.gnuBuildID(ofFile: exe) == expected)
        #expect(try HostFingerprint.of(executable: exe) == expected)
        #expect(HostFingerprint.current == expected)
    }

    @Test func aFileWithoutABuildIDIsKnownByItsSHA256() throws {
        let path = NSTemporaryDirectory() + "/hot-buildid-\(getpid())"
        defer { unlink(path) }
        let bytes = Array("#!/bin/sh\necho no notes here\n".utf8)
        try writeFileAtomically(path, bytes)
        #expect(try ELFNotes.gnuBuildID(ofFile: path) == nil)
        #expect(try HostFingerprint.of(executable: path) == "sha256-" + SHA256Hasher.hex(of: bytes))
    }

    @Test func notesAreWalkedToTheGNUOne() {
        // An ABI-tag note first, then the build-id: sizes, type, padded name, padded descriptor.
        var notes: [UInt8] = [4, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0] + Array("GNU\0".utf8) + [UInt8](repeating: 0, count: 16)
        notes += [4, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0] + Array("GNU\0".utf8) + [0xab, 0xcd, 0xef, 0]
        #expect(ELFNotes.gnuBuildID(inNotes: notes) == "abcdef")
        #expect(ELFNotes.gnuBuildID(inNotes: Array(notes.prefix(30))) == nil)
    }
}
