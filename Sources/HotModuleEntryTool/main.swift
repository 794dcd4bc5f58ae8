#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

// Run by the HotModuleEntry plugin for a hot module that is a target of the
// host's package: writes the file that hands the node the module's exports
// as its built-in version (docs/ARCHITECTURE.md, "Built-in versions").
//
//     HotModuleEntryTool NAME FOLDER OUTPUT SOURCE...

let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    _ = writeAll(2, Array("HotModuleEntry: \(message)\n".utf8))
    exit(1)
}

guard arguments.count >= 3 else { fail("usage: HotModuleEntryTool NAME FOLDER OUTPUT SOURCE...") }
let name = arguments[0]
let folder = arguments[1]
let output = arguments[2]
let sources = Array(arguments.dropFirst(3))
guard HotSDK.isValidModuleName(name) else {
    fail("target '\(name)' is not a valid hot module name: use lowercase letters, digits and _, starting with a letter, as its folder under modules/")
}
guard !ModuleDescriptor.looksVersioned(name) else {
    fail("target '\(name)' ends in _v and a number, the Swift module name hot versions of another module are compiled as: rename the module")
}
guard let key = SourceKey.of(folder: folder, files: sources) else { fail("cannot read the sources of \(name) in \(folder)") }
let descriptor = ModuleDescriptor(
    abi: HotSDK.abiVersion, sdk: HotSDK.fingerprint, compiler: HotSDK.compiler, name: name, version: 0, key: key)
let text = Array(descriptor.builtinEntrySource.utf8)
// Written only when it changed, so that an unchanged module is not compiled again.
if readFile(output) != text {
    do { try writeFileAtomically(output, text, durable: false) } catch { fail("cannot write \(output): \(error)") }
}
