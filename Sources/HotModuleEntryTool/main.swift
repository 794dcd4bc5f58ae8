#if canImport(Glibc)
import Glibc
#endif
import Hot

// Run by the HotModuleEntry plugin for a hot module that is a target of the
// host's package: writes the file that hands the node the module's exports
// as its built-in version (docs/ARCHITECTURE.md, "Built-in versions").
// Only `Hot`: SwiftPM builds a plugin's tool and all it depends on again in
// every build, so the tool reads and writes its file with libc itself.
//
//     HotModuleEntryTool NAME SOURCE-KEY OUTPUT

func fail(_ message: String) -> Never {
    let line = Array("HotModuleEntry: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// The whole file at `path`, or nil.
func contents(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if n == 0 { return ferror(file) == 0 ? bytes : nil }
        bytes += buffer[0..<n]
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 3 else { fail("usage: HotModuleEntryTool NAME SOURCE-KEY OUTPUT") }
let (name, key, output) = (arguments[0], arguments[1], arguments[2])
guard HotSDK.isValidModuleName(name) else {
    fail("target '\(name)' is not a valid hot module name: use lowercase letters, digits and _, starting with a letter, as its folder under modules/")
}
guard !ModuleDescriptor.looksVersioned(name) else {
    fail("target '\(name)' ends in _v and a number, the Swift module name hot versions of another module are compiled as: rename the module")
}
guard key.count == 64, key.allSatisfy(\.isHexDigit) else { fail("no source key for \(name) ('\(key)'): is sha256sum installed?") }
let descriptor = ModuleDescriptor(
    abi: HotSDK.abiVersion, sdk: HotSDK.fingerprint, compiler: HotSDK.compiler, name: name, version: 0, key: key)
let text = Array(descriptor.builtinEntrySource.utf8)
// Written only when it changed, so that an unchanged module is not compiled again.
if contents(output) != text {
    let temporary = output + ".new"
    guard let file = fopen(temporary, "wb") else { fail("cannot write \(temporary)") }
    let written = text.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    guard fclose(file) == 0, written == text.count, rename(temporary, output) == 0 else { fail("cannot write \(output)") }
}
