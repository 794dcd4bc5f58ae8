import SwiftParser
import SwiftSyntax

/// One declaration of a host source file as the patch planner sees it: what
/// it is, where it stands, and its text without comments or spacing, so that
/// two versions of a file compare member by member and a reformatted or
/// recommented member is not a change.
struct Declaration {
    /// What Swift can do with a change to it at run time.
    enum Kind: Equatable {
        /// A function, method, computed property or subscript: each call
        /// goes through a replaceable entry (docs/RELOADING.md, "Patching
        /// the host's own code").
        case replaceable
        /// Something the running code's layout or start-up depends on;
        /// the text says what, as the user would name it.
        case fixed(String)
        /// A whole new type, or an extension adding no conformance:
        /// patch code may declare it anew.
        case container
    }

    /// Stable across edits of the body: the enclosing types, the kind and
    /// name, and for a callable its signature.
    let key: String
    let kind: Kind
    /// The declaration's tokens, joined by spaces.
    let tokens: String
    /// Its first line, 1-based.
    let line: Int
    /// The enclosing declarations, outermost first: the text an extension
    /// needs to reopen them (`Greeter`, `Outer.Inner`), with an extension's
    /// `where` clause; empty at the top level.
    let context: Context?
    /// The declaration itself, for generating a patch.
    let syntax: Syntax

    /// Where a member stands: the type path an extension names, the
    /// `where` clause of the extension it was declared in, and the key of
    /// the type or extension declaration around it.
    struct Context: Equatable, Sendable {
        var typePath: String
        var whereClause: String?
        /// In a protocol's body: a requirement, never replaceable.
        var isProtocol: Bool
        var containerKey: String
    }
}

/// A file's declarations, found in swift-syntax's tree.
struct SourceDeclarations {
    /// Every declaration, in source order, members after their type.
    private(set) var all: [Declaration] = []
    /// The file's imports, as written (`import Hummingbird`, `@preconcurrency import X`).
    private(set) var imports: [String] = []
    /// The file's statements outside any declaration (top-level code, which
    /// runs once when the program starts), joined as tokens.
    private(set) var topLevelCode = ""
    /// The first line of top-level code, if any.
    private(set) var topLevelLine: Int?
    let converter: SourceLocationConverter
    let tree: SourceFileSyntax

    init(file: String, source: String) {
        tree = Parser.parse(source: source)
        converter = SourceLocationConverter(fileName: file, tree: tree)
        var code: [String] = []
        for item in tree.statements {
            switch item.item {
            case .decl(let decl):
                if let importDecl = decl.as(ImportDeclSyntax.self) {
                    imports.append(importDecl.trimmedDescription)
                } else {
                    collect(decl, context: nil)
                }
            case .stmt, .expr:
                code.append(tokens(item))
                if topLevelLine == nil { topLevelLine = line(item) }
            }
        }
        topLevelCode = code.joined(separator: " ; ")
    }

    /// The declaration with `key`, if the file has it (the first, for two
    /// extensions alike).
    func declaration(_ key: String) -> Declaration? { index[key].map { all[$0] } }
    /// Each key's position in `all`, so that comparing two files is linear.
    private var index: [String: Int] = [:]

    func line(_ node: some SyntaxProtocol) -> Int {
        node.startLocation(converter: converter, afterLeadingTrivia: true).line
    }

    private mutating func add(_ key: String, _ kind: Declaration.Kind, _ node: some SyntaxProtocol, _ context: Declaration.Context?) {
        append(Declaration(key: key, kind: kind, tokens: tokens(node), line: line(node), context: context, syntax: Syntax(node)))
    }

    private mutating func append(_ declaration: Declaration) {
        if index[declaration.key] == nil { index[declaration.key] = all.count }
        all.append(declaration)
    }

    private mutating func collect(_ decl: DeclSyntax, context: Declaration.Context?) {
        let prefix = context.map { $0.typePath + "." } ?? ""
        if let function = decl.as(FunctionDeclSyntax.self) {
            let kind: Declaration.Kind = context?.isProtocol == true ? .fixed("a protocol requirement") : .replaceable
            add(prefix + "func " + function.name.text + signatureKey(function.signature, generic: function.genericParameterClause)
                    + staticKey(function.modifiers),
                kind, function, context)
        } else if let variable = decl.as(VariableDeclSyntax.self) {
            collectVariable(variable, prefix: prefix, context: context)
        } else if let subscriptDecl = decl.as(SubscriptDeclSyntax.self) {
            let parameters: String = tokens(subscriptDecl.parameterClause)
            let returns: String = tokens(subscriptDecl.returnClause)
            let key: String = prefix + "subscript" + parameters + " " + returns + staticKey(subscriptDecl.modifiers)
            add(key, context?.isProtocol == true ? .fixed("a protocol requirement") : .replaceable, subscriptDecl, context)
        } else if let initializer = decl.as(InitializerDeclSyntax.self) {
            add(prefix + "init" + signatureKey(initializer.signature, generic: initializer.genericParameterClause), .fixed("an initializer"),
                initializer, context)
        } else if let deinitializer = decl.as(DeinitializerDeclSyntax.self) {
            add(prefix + "deinit", .fixed("a deinitializer"), deinitializer, context)
        } else if let enumCase = decl.as(EnumCaseDeclSyntax.self) {
            for element in enumCase.elements {
                add(prefix + "case " + element.name.text, .fixed("an enum case"), element, context)
            }
        } else if let alias = decl.as(TypeAliasDeclSyntax.self) {
            add(prefix + "typealias " + alias.name.text, .fixed("a typealias"), alias, context)
        } else if let associated = decl.as(AssociatedTypeDeclSyntax.self) {
            add(prefix + "associatedtype " + associated.name.text, .fixed("an associated type"), associated, context)
        } else if let type = decl.asProtocol(NamedDeclSyntax.self), let group = decl.asProtocol(DeclGroupSyntax.self) {
            collectType(decl, name: type.name.text, group: group, prefix: prefix, context: context)
        } else if let extensionDecl = decl.as(ExtensionDeclSyntax.self) {
            collectExtension(extensionDecl, context: context)
        } else if let ifConfig = decl.as(IfConfigDeclSyntax.self) {
            add(prefix + "#if@\(all.count)", .fixed("a conditional compilation block"), ifConfig, context)
        } else {
            // A macro expansion, an operator or precedence group: nothing a
            // patch can redeclare.
            add(prefix + "decl@" + tokens(decl).prefix(40), .fixed("a declaration patches cannot change"), decl, context)
        }
    }

    private mutating func collectVariable(_ variable: VariableDeclSyntax, prefix: String, context: Declaration.Context?) {
        let isLazy = variable.modifiers.contains { $0.name.text == "lazy" }
        for binding in variable.bindings {
            let name = binding.pattern.trimmedDescription
            let key = prefix + "var " + name + staticKey(variable.modifiers)
            if context?.isProtocol == true {
                add(key, .fixed("a protocol requirement"), variable, context)
                continue
            }
            let computed: Bool
            switch binding.accessorBlock?.accessors {
            case .getter?: computed = true
            case .accessors(let accessors)?:
                // Observers (willSet, didSet) belong to stored storage.
                computed = accessors.allSatisfy { ["get", "set", "_read", "_modify", "unsafeAddress", "unsafeMutableAddress"].contains($0.accessorSpecifier.text) }
            case nil: computed = false
            }
            if computed && !isLazy && variable.bindings.count == 1 {
                add(key, .replaceable, variable, context)
            } else {
                let what = context == nil ? "a global variable (initialized once)" : staticKey(variable.modifiers).isEmpty ? "a stored property" : "a static stored property (initialized once)"
                add(key, .fixed(what), binding, context)
            }
        }
    }

    private mutating func collectType(
        _ decl: DeclSyntax, name: String, group: some DeclGroupSyntax, prefix: String, context: Declaration.Context?
    ) {
        let path = prefix + name
        let isProtocol = decl.is(ProtocolDeclSyntax.self)
        // The header: everything but the members.
        var header: [String] = [tokens(group.attributes), tokens(group.modifiers), name]
        if let generic = decl.asProtocol(WithGenericParametersSyntax.self)?.genericParameterClause { header.append(tokens(generic)) }
        if let inheritance = group.inheritanceClause { header.append(tokens(inheritance)) }
        if let whereClause = group.genericWhereClause { header.append(tokens(whereClause)) }
        append(
            Declaration(
                key: "type " + path, kind: .container, tokens: header.joined(separator: " "), line: line(decl), context: context,
                syntax: Syntax(decl)))
        let inner = Declaration.Context(typePath: path, whereClause: nil, isProtocol: isProtocol, containerKey: "type " + path)
        for member in group.memberBlock.members { collect(member.decl, context: inner) }
    }

    private mutating func collectExtension(_ extensionDecl: ExtensionDeclSyntax, context: Declaration.Context?) {
        let path = extensionDecl.extendedType.trimmedDescription
        let whereClause = extensionDecl.genericWhereClause.map { tokens($0) }
        let conformances = extensionDecl.inheritanceClause.map { tokens($0) } ?? ""
        // Extensions have no name: one is known by what it extends, the
        // conformances it adds and its where clause.
        let key = "extension " + path + (conformances.isEmpty ? "" : " " + conformances) + (whereClause.map { " " + $0 } ?? "")
        append(
            Declaration(
                key: key, kind: conformances.isEmpty ? .container : .fixed("an extension adding a conformance"), tokens: key,
                line: line(extensionDecl), context: context, syntax: Syntax(extensionDecl)))
        // Members of a protocol's extension are not its requirements.
        let inner = Declaration.Context(typePath: path, whereClause: whereClause, isProtocol: false, containerKey: key)
        for member in extensionDecl.memberBlock.members { collect(member.decl, context: inner) }
    }

    /// `(_:to:) async throws -> Int` as tokens: labels and types, without
    /// the parameters' inner names or default values.
    private func signatureKey(_ signature: FunctionSignatureSyntax, generic: GenericParameterClauseSyntax?) -> String {
        let parameters = signature.parameterClause.parameters.map { parameter in
            parameter.firstName.text + ": " + tokens(parameter.type) + (parameter.ellipsis == nil ? "" : "...")
        }
        var key = (generic.map { tokens($0) } ?? "") + "(" + parameters.joined(separator: ", ") + ")"
        if let effects = signature.effectSpecifiers { key += " " + tokens(effects) }
        if let returnClause = signature.returnClause { key += " " + tokens(returnClause) }
        return key
    }

    private func staticKey(_ modifiers: DeclModifierListSyntax) -> String {
        modifiers.contains { ["static", "class"].contains($0.name.text) } ? " static" : ""
    }

    func tokens(_ node: some SyntaxProtocol) -> String {
        node.tokens(viewMode: .sourceAccurate).map(\.text).joined(separator: " ")
    }
}
