import SwiftSyntax

/// Where the app's `main` begins: the top-level code of `main.swift`, or
/// the type marked `@main`.
struct Entry {
    enum Kind: Equatable {
        case topLevel
        case mainType
    }

    let path: String
    let kind: Kind
    let source: ParsedSource
    /// The `@main` type, for `.mainType`.
    let type: DeclGroupSyntax?

    /// The entry among the target's files: `main.swift` if there is one
    /// (SwiftPM's rule too), else the one file with an `@main` type.
    static func find(in files: [(path: String, source: ParsedSource)], targetPath: String) throws(AdoptError) -> Entry {
        if let main = files.first(where: { $0.path.split(separator: "/").last == "main.swift" }) {
            return Entry(path: main.path, kind: .topLevel, source: main.source, type: nil)
        }
        for file in files {
            for item in file.source.tree.statements {
                guard let group = item.item.asProtocol(DeclGroupSyntax.self), group.attributes.contains(where: isMainAttribute) else { continue }
                return Entry(path: file.path, kind: .mainType, source: file.source, type: group)
            }
        }
        throw .appShape("no main.swift and no @main type in \(targetPath): hot adopt puts the trial load first in main")
    }

    private static func isMainAttribute(_ element: AttributeListSyntax.Element) -> Bool {
        element.as(AttributeSyntax.self)?.attributeName.trimmedDescription == "main"
    }

    /// `TrialLoad.runIfRequested()` as main's first statement: first in
    /// main.swift after its imports; first in the `@main` type's `static
    /// func main()`; or, for an `AsyncParsableCommand` (which has its `main`
    /// from ArgumentParser), in a `main()` of its own that then hands over
    /// to ArgumentParser's, so the trial runs before any argument is parsed.
    func trialEdits() throws(AdoptError) -> [TextEdit] {
        let call = "TrialLoad.runIfRequested()"
        switch kind {
        case .topLevel:
            guard let first = source.tree.statements.first(where: { !$0.item.is(ImportDeclSyntax.self) }) else {
                return [.insert("\n" + block(AppEdit.trialComment + [call], indent: ""), at: source.bytes.count)]
            }
            return [.insert(block(AppEdit.trialComment + [call], indent: "") + "\n", at: source.lineStart(of: first))]
        case .mainType:
            let type = type!
            let name = type.as(StructDeclSyntax.self)?.name.text ?? type.as(ClassDeclSyntax.self)?.name.text ?? type.as(EnumDeclSyntax.self)?.name.text ?? "main type"
            let main = type.memberBlock.members.compactMap { $0.decl.as(FunctionDeclSyntax.self) }.first {
                $0.name.text == "main" && $0.signature.parameterClause.parameters.isEmpty
                    && $0.modifiers.contains { $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class) }
            }
            if let main {
                guard let body = main.body else { throw .appShape("\(path): \(name).main() has no body") }
                guard let first = body.statements.first else {
                    return [.insert("\n" + block(AppEdit.trialComment + [call], indent: source.indentation(of: main) + source.indentUnit), at: body.leftBrace.endPositionBeforeTrailingTrivia.utf8Offset)]
                }
                let indent = source.indentation(of: first)
                return [.insert(block(AppEdit.trialComment + [call], indent: indent) + "\n", at: source.lineStart(of: first))]
            }
            let inherited = Set(type.inheritanceClause?.inheritedTypes.map { $0.type.trimmedDescription } ?? [])
            guard inherited.contains("AsyncParsableCommand") else {
                throw .appShape("\(path): the @main type \(name) has no `static func main()` and is not an AsyncParsableCommand; hot adopt puts the trial load first in main")
            }
            let unit = source.indentUnit
            let memberIndent = type.memberBlock.members.first.map { source.indentation(of: $0) } ?? source.indentation(of: type) + unit
            let lines = [
                "/// Runs a trial load when this process is one (`TrialLoad`), then the",
                "/// command as ArgumentParser runs it.",
                "static func main() async {",
            ] + AppEdit.trialComment.map { unit + $0 } + [unit + call, unit + "await main(nil)", "}"]
            let anchor = type.memberBlock.members.first.map { source.lineStart(of: $0) }
            if let anchor { return [.insert(block(lines, indent: memberIndent) + "\n", at: anchor)] }
            return [.insert("\n" + block(lines, indent: memberIndent), at: type.memberBlock.leftBrace.endPositionBeforeTrailingTrivia.utf8Offset)]
        }
    }
}
