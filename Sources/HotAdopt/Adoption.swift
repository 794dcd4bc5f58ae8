#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import SwiftSyntax

/// What `hot adopt` would change to make a package holding a Hummingbird
/// or Vapor app a Hot host (docs/EMBEDDING.md, "Adopting an app"): every file it
/// edits or creates, old and new, worked out in full before anything is
/// written, so that a package it refuses is left as it was.
public struct Adoption: Sendable {
    /// One file: its path relative to the package, its text now (nil: it is
    /// new) and what it becomes.
    public struct Change: Sendable, Equatable {
        public let path: String
        public let old: String?
        public let new: String
    }

    /// The files that change; empty when the package is adopted already.
    public let changes: [Change]
    /// The executable product hot.json's `host` names.
    public let product: String

    /// What adopting the package in `root` for `module` changes; Hot's
    /// package is at `hotPackage`, and a new hot.json is named `name`.
    public static func plan(root: String, module: String, hotPackage: String, name: String) throws(AdoptError) -> Adoption {
        guard module.first.map({ $0.isASCII && $0.isLowercase }) == true,
            module.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else {
            throw .moduleName("invalid module name '\(module)': use lowercase letters, digits and _, starting with a letter")
        }
        let identity = ManifestEdit.identity(of: hotPackage)
        var changes: [Change] = []
        func note(_ path: String, _ old: String?, _ new: String) {
            if old != new { changes.append(Change(path: path, old: old, new: new)) }
        }

        let manifestText = try read(root, "Package.swift")
        var manifest = try ManifestEdit.edit(manifestText, module: module, hotPackage: hotPackage, identity: identity)

        let files = sources(root, manifest.targetPath)
        guard !files.isEmpty else { throw .missingFile("Swift source in \(manifest.targetPath) (the sources of executable target \(manifest.target))") }
        let app = try AppEdit.edit(files, targetPath: manifest.targetPath, module: module, framework: manifest.framework)
        // A context from a library target of the package: the module depends on it and imports it.
        let library = app.context.isEmpty ? nil : library(declaring: app.context, among: manifest.libraries, root: root)
        if let library {
            manifest = try ManifestEdit.edit(manifestText, module: module, hotPackage: hotPackage, identity: identity, uses: [library])
        }
        note("Package.swift", manifestText, manifest.text)
        for file in app.changed { note(file.path, files.first { $0.path == file.path }?.text, file.text) }

        let modulePath = "modules/\(module)/\(module).swift"
        let moduleFolder = root + "/modules/" + module
        if !isDirectory(moduleFolder) || listDirectory(moduleFolder).allSatisfy({ !$0.hasSuffix(".swift") }) {
            note(modulePath, nil, Scaffold.module(module, context: app.context, imports: library.map { [$0] } ?? [], framework: manifest.framework))
        }

        if let hotJSON = try Scaffold.hotJSON(root: root, name: name, product: manifest.product) {
            note(ProjectLayout.configFile, nil, hotJSON)
        }

        let gitignore = readFile(root + "/.gitignore").map { String(decoding: $0, as: UTF8.self) }
        note(".gitignore", gitignore, Scaffold.ignoring(ProjectLayout.ignoreEntry, in: gitignore))
        return Adoption(changes: changes, product: manifest.product)
    }

    /// The diff of every change, file after file.
    public var diff: String {
        changes.map { unifiedDiff(path: $0.path, old: $0.old, new: $0.new) }.joined()
    }

    /// Writes every change into the package in `root`: each file first to a
    /// temporary name beside it, and only once all are written, each renamed
    /// over its old self. A failure before the renames removes what was
    /// written, so the package is as it was.
    public func apply(root: String) throws(AdoptError) {
        var written: [(temporary: String, final: String)] = []
        var madeFolders: [String] = []
        func undo() {
            for file in written { unlink(file.temporary) }
            for folder in madeFolders.reversed() { rmdir(folder) }
        }
        for change in changes {
            let final = root + "/" + change.path
            let temporary = final + ".hot-adopt-\(getpid()).tmp"
            var folder = parentDirectory(final)
            var missing: [String] = []
            while !isDirectory(folder) {
                missing.append(folder)
                folder = parentDirectory(folder)
            }
            do {
                for folder in missing.reversed() {
                    try makeDirectories(folder)
                    madeFolders.append(folder)
                }
                try writeFileAtomically(temporary, Array(change.new.utf8))
            } catch {
                undo()
                throw .write(path: change.path, reason: "\(error)")
            }
            written.append((temporary, final))
        }
        for file in written where rename(file.temporary, file.final) != 0 {
            let reason = String(cString: strerror(errno))
            undo()
            throw .write(path: file.final, reason: reason)
        }
    }

    private static func read(_ root: String, _ path: String) throws(AdoptError) -> String {
        guard let bytes = readFile(root + "/" + path) else { throw .missingFile(path) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The library target that declares the type `context` (`Shared.AppContext`,
    /// or a type or typealias of that name in its sources), if one does.
    static func library(declaring context: String, among libraries: [(name: String, path: String)], root: String) -> String? {
        if let dot = context.firstIndex(of: "."), libraries.contains(where: { $0.name == context[..<dot] }) { return String(context[..<dot]) }
        for library in libraries {
            for file in sources(root, library.path) where file.text.contains(context) {
                let tree = ParsedSource.parse(file.text)
                let names = declarations(StructDeclSyntax.self, in: tree).map(\.name.text) + declarations(ClassDeclSyntax.self, in: tree).map(\.name.text)
                    + declarations(EnumDeclSyntax.self, in: tree).map(\.name.text) + declarations(TypeAliasDeclSyntax.self, in: tree).map(\.name.text)
                if names.contains(context) { return library.name }
            }
        }
        return nil
    }

    /// The `.swift` files under `folder` of the package, with their text.
    private static func sources(_ root: String, _ folder: String) -> [SourceFile] {
        swiftFiles(root, folder).compactMap { path in readFile(root + "/" + path).map { SourceFile(path: path, text: String(decoding: $0, as: UTF8.self)) } }
    }

    /// The `.swift` files under `folder` of the package, relative to it, sorted.
    private static func swiftFiles(_ root: String, _ folder: String) -> [String] {
        var found: [String] = []
        var pending = [folder]
        while let next = pending.popLast() {
            for entry in listEntries(root + "/" + next) {
                let path = next + "/" + entry.name
                if entry.isDirectory { pending.append(path) } else if entry.name.hasSuffix(".swift") { found.append(path) }
            }
        }
        return found.sorted()
    }
}
