import HotProject
import SwiftSyntax

/// What `hot adopt` changes in Package.swift (docs/EMBEDDING.md, "Adopting
/// an app"): Hot's package as a dependency with the trait of the app's
/// framework (Hummingbird or Vapor); on the app's executable target, Hot's
/// products for that framework, the module's target
/// and the linker flag that lets modules bind to the app's libraries; the
/// module as a target of the package, built into the app; and the
/// `patchable` setting on the app's own targets, so that `hot watch` patches
/// their code in a debug build (docs/RELOADING.md).
public struct ManifestEdit: Sendable {
    /// Package.swift after the edit (the same text when nothing was missing).
    public let text: String
    /// The app's executable target.
    public let target: String
    /// The folder of its sources, relative to the package.
    public let targetPath: String
    /// The executable product that builds it: hot.json's `host.product`.
    public let product: String
    /// The package's library targets (`.target`), each with its sources' folder.
    public let libraries: [(name: String, path: String)]
    /// The framework the app serves with.
    public let framework: Framework

    /// The tools version the trait on a dependency needs.
    static let toolsVersion = (major: 6, minor: 1)
    static let exportDynamic = #".unsafeFlags(["-Xlinker", "--export-dynamic"])"#
    /// The labels of `Package(…)`'s arguments that follow `swiftLanguageModes:`.
    static let afterLanguageModes = ["cLanguageStandard", "cxxLanguageStandard"]
    /// The labels of a target's arguments after `dependencies:`, and after `linkerSettings:`.
    static let afterDependencies = [
        "path", "exclude", "sources", "resources", "publicHeadersPath", "packageAccess", "cSettings", "cxxSettings", "swiftSettings",
        "linkerSettings", "plugins",
    ]
    static let afterLinkerSettings = ["plugins"]
    /// The labels of a target's arguments after `swiftSettings:`.
    static let afterSwiftSettings = ["linkerSettings", "plugins"]

    /// Edits `manifest` for `module`, Hot's package being at `hotPackage`
    /// (SwiftPM's identity of it: `identity`); the module's target also
    /// depends on the package's targets `uses` (the one declaring the app's
    /// request context, when a library target does).
    public static func edit(
        _ manifest: String, module: String, hotPackage: String, identity: String, uses: [String] = []
    ) throws(AdoptError) -> ManifestEdit {
        let source = ParsedSource(manifest)
        if source.tree.hasError { throw .unparsable(file: "Package.swift") }
        guard let package = calls(in: source.tree).first(where: { calledName($0) == "Package" && $0.calledExpression.is(DeclReferenceExprSyntax.self) })
        else { throw .manifestShape("no `let package = Package(...)`") }
        guard let dependencies = argument("dependencies", of: package)?.expression.as(ArrayExprSyntax.self) else {
            throw .manifestShape("Package(...) has no `dependencies: [...]` array")
        }
        guard let targets = argument("targets", of: package)?.expression.as(ArrayExprSyntax.self) else {
            throw .manifestShape("Package(...) has no `targets: [...]` array")
        }
        let identities = Set(packageIdentities(in: dependencies).map(\.identity))
        let present = Framework.allCases.filter { identities.contains($0.identity) }
        guard !present.isEmpty else { throw .noFramework }
        let app = try executableTarget(in: targets, serving: present)
        // The one the app's target depends on; the package's one when it has one.
        let serving = present.filter { depends(app, on: $0) }
        guard let framework = serving.count == 1 ? serving[0] : present.count == 1 ? present[0] : nil else {
            throw .executable("the app's executable target depends on \(serving.isEmpty ? "neither" : "both") of Hummingbird and Vapor; hot adopt wires one")
        }
        let appName = stringValue(argument("name", of: app)?.expression) ?? ""
        let targetPath = stringValue(argument("path", of: app)?.expression) ?? "Sources/" + appName
        let product = executableProduct(of: appName, in: argument("products", of: package)?.expression.as(ArrayExprSyntax.self)) ?? appName

        for element in targets.elements {
            guard let call = element.expression.as(FunctionCallExprSyntax.self), stringValue(argument("name", of: call)?.expression) == module else { continue }
            let path = stringValue(argument("path", of: call)?.expression)
            if path != "modules/" + module {
                throw .moduleName("the package already has a target named \(module) (not in modules/\(module)); pick another name with --module")
            }
        }

        var edits: [TextEdit] = []
        edits += try toolsVersionEdits(source, package: package)
        if !packageIdentities(in: dependencies).contains(where: { $0.identity == identity }) {
            edits += source.append([#".package(path: "\#(hotPackage)", traits: ["\#(framework.name)"])"#], to: dependencies)
        }
        edits += patchableDeclaration(source, package: package)
        edits += appEdits(source, app: app, module: module, identity: identity, framework: framework)
        for library in targets.elements.compactMap({ $0.expression.as(FunctionCallExprSyntax.self) })
        where calledName(library) == "target" && stringValue(argument("name", of: library)?.expression) != module {
            edits += patchableEdits(source, target: library)
        }
        let hasModule = targets.elements.contains {
            $0.expression.as(FunctionCallExprSyntax.self).map { stringValue(argument("name", of: $0)?.expression) == module } ?? false
        }
        if !hasModule {
            edits += source.append([moduleTarget(module, identity: identity, framework: framework, uses: uses, unit: source.indentUnit)], to: targets)
        }
        let text = applying(edits, to: manifest)
        if ParsedSource.parse(text).hasError { throw .uneditable(file: "Package.swift") }
        let libraries = targets.elements.compactMap { element -> (name: String, path: String)? in
            guard let call = element.expression.as(FunctionCallExprSyntax.self), calledName(call) == "target",
                let name = stringValue(argument("name", of: call)?.expression), name != module
            else { return nil }
            return (name, stringValue(argument("path", of: call)?.expression) ?? "Sources/" + name)
        }
        return ManifestEdit(text: text, target: appName, targetPath: targetPath, product: product, libraries: libraries, framework: framework)
    }

    /// The `.target(…)` of the module: an ordinary target of the package, so
    /// `swift build` builds it into the app as the module's built-in version.
    static func moduleTarget(_ module: String, identity: String, framework: Framework, uses: [String] = [], unit: String) -> String {
        let dependencies = uses.map { "\"\($0)\"" } + [#".product(name: "Hot", package: "\#(identity)")"#, framework.productDependency]
        return """
        .target(
        \(unit)name: "\(module)",
        \(unit)dependencies: [\(dependencies.joined(separator: ", "))],
        \(unit)path: "modules/\(module)",
        \(unit)plugins: [.plugin(name: "HotModuleEntry", package: "\(identity)")])
        """
    }

    /// The tools version the trait needs, and, for a package written for
    /// Swift 5, the language mode it had, so the app compiles as before.
    private static func toolsVersionEdits(_ source: ParsedSource, package: FunctionCallExprSyntax) throws(AdoptError) -> [TextEdit] {
        let firstLine = source.text.prefix { $0 != "\n" }
        guard let match = firstLine.firstMatch(of: /^\/\/ ?swift-tools-version: ?(\d+)\.(\d+)(\.\d+)?/),
            let major = Int(match.1), let minor = Int(match.2)
        else { throw .noToolsVersion }
        guard (major, minor) < toolsVersion else { return [] }
        var edits = [TextEdit(offset: 0, length: match.0.utf8.count, text: "// swift-tools-version:\(toolsVersion.major).\(toolsVersion.minor)")]
        if major < 6, argument("swiftLanguageModes", of: package) == nil, argument("swiftLanguageVersions", of: package) == nil {
            edits += source.insert(argument: "swiftLanguageModes: [.v5]", into: package, before: afterLanguageModes)
        }
        return edits
    }

    /// `let patchable` before `let package`, unless the manifest declares it.
    private static func patchableDeclaration(_ source: ParsedSource, package: FunctionCallExprSyntax) -> [TextEdit] {
        let declared = declarations(PatternBindingSyntax.self, in: source.tree).contains {
            $0.pattern.as(IdentifierPatternSyntax.self)?.identifier.text == "patchable"
        }
        guard !declared else { return [] }
        var statement = Syntax(package)
        while let parent = statement.parent, !parent.is(CodeBlockItemSyntax.self) { statement = parent }
        let start = source.lineStart(of: statement)
        // A blank line on each side, as between the template's declarations.
        let afterBlank = start < 2 || source.bytes[start - 2] == UInt8(ascii: "\n")
        return [.insert((afterBlank ? "" : "\n") + PatchableSetting.declaration + "\n\n", at: start)]
    }

    /// `swiftSettings: patchable` on one of the app's own targets, or
    /// `+ patchable` after the settings it has, unless they hold it.
    private static func patchableEdits(_ source: ParsedSource, target: FunctionCallExprSyntax) -> [TextEdit] {
        guard let settings = argument("swiftSettings", of: target)?.expression else {
            return source.insert(argument: "swiftSettings: patchable", into: target, before: afterSwiftSettings)
        }
        let text = settings.description
        if text.contains("patchable") || text.contains("-enable-implicit-dynamic") { return [] }
        return [.replace(settings, with: "\(settings.trimmedDescription) + patchable")]
    }

    /// The executable target's dependencies, patchable setting and linker flag.
    private static func appEdits(_ source: ParsedSource, app: FunctionCallExprSyntax, module: String, identity: String, framework: Framework) -> [TextEdit] {
        var edits: [TextEdit] = []
        let wanted = [#""\#(module)""#] + framework.hotProducts.map { #".product(name: "\#($0)", package: "\#(identity)")"# }
        if let dependencies = argument("dependencies", of: app)?.expression.as(ArrayExprSyntax.self) {
            let present = Set(dependencies.elements.map { $0.expression.trimmedDescription })
            edits += source.append(wanted.filter { !present.contains($0) }, to: dependencies)
        } else {
            edits += source.insert(argument: "dependencies: [\(wanted.joined(separator: ", "))]", into: app, before: afterDependencies)
        }
        // Before the linker's edit: both may land at one place, in this order.
        edits += patchableEdits(source, target: app)
        if let linker = argument("linkerSettings", of: app)?.expression {
            if !linker.description.contains("--export-dynamic") {
                if let array = linker.as(ArrayExprSyntax.self) {
                    edits += source.append([exportDynamic], to: array)
                } else {
                    edits.append(.replace(linker, with: "\(linker.trimmedDescription) + [\(exportDynamic)]"))
                }
            }
        } else {
            edits += source.insert(argument: "linkerSettings: [\(exportDynamic)]", into: app, before: afterLinkerSettings)
        }
        return edits
    }

    /// The app's target: the one executable target, or the one of several
    /// that depends on one of the frameworks `serving` (those the package has).
    private static func executableTarget(in targets: ArrayExprSyntax, serving frameworks: [Framework]) throws(AdoptError) -> FunctionCallExprSyntax {
        let executables = targets.elements.compactMap { $0.expression.as(FunctionCallExprSyntax.self) }.filter { calledName($0) == "executableTarget" }
        if executables.count == 1 { return executables[0] }
        let serving = executables.filter { target in frameworks.contains { depends(target, on: $0) } }
        if serving.count == 1 { return serving[0] }
        if executables.isEmpty { throw .executable("no .executableTarget in targets: [...]") }
        let names = (serving.isEmpty ? executables : serving).map { stringValue(argument("name", of: $0)?.expression) ?? "?" }
        let what = frameworks.map(\.name).joined(separator: " or ")
        throw .executable("\(names.count) executable targets (\(names.joined(separator: ", "))) and not one that alone depends on \(what)")
    }

    /// Whether `target` depends on a product of `framework`'s package.
    private static func depends(_ target: FunctionCallExprSyntax, on framework: Framework) -> Bool {
        guard let dependencies = argument("dependencies", of: target)?.expression.as(ArrayExprSyntax.self) else { return false }
        return dependencies.elements.contains { element in
            guard let call = element.expression.as(FunctionCallExprSyntax.self), calledName(call) == "product" else { return false }
            return stringValue(argument("package", of: call)?.expression) == framework.identity
        }
    }

    /// The name of the `.executable` product whose targets hold `target`.
    private static func executableProduct(of target: String, in products: ArrayExprSyntax?) -> String? {
        for element in products?.elements ?? [] {
            guard let call = element.expression.as(FunctionCallExprSyntax.self), calledName(call) == "executable",
                let targets = argument("targets", of: call)?.expression.as(ArrayExprSyntax.self),
                targets.elements.contains(where: { stringValue($0.expression) == target })
            else { continue }
            return stringValue(argument("name", of: call)?.expression)
        }
        return nil
    }

    /// Each `.package(url:…)` or `.package(path:…)` of the array with SwiftPM's identity of it.
    static func packageIdentities(in dependencies: ArrayExprSyntax) -> [(call: FunctionCallExprSyntax, identity: String)] {
        dependencies.elements.compactMap { element in
            guard let call = element.expression.as(FunctionCallExprSyntax.self), calledName(call) == "package",
                let location = stringValue((argument("url", of: call) ?? argument("path", of: call))?.expression)
            else { return nil }
            return (call, identity(of: location))
        }
    }

    /// SwiftPM's identity of a package location: its last path component,
    /// without `.git`, lowercased (a path dependency's is its folder's name).
    public static func identity(of location: String) -> String {
        var last = String(location.split(separator: "/").last ?? "")
        if last.hasSuffix(".git") { last.removeLast(4) }
        return last.lowercased()
    }
}
