import SwiftSyntax

/// Something in a save that no patch can make live; the host must be
/// rebuilt and restarted for it.
public struct RestartNeeded: Sendable, Equatable, CustomStringConvertible {
    /// The file, project-relative.
    public let file: String
    /// The line of the declaration in the file as saved (1-based).
    public let line: Int
    /// Why, in a user's words.
    public let why: String
    /// How to write it so that it is patched, when there is a way.
    public let fix: String?

    public init(file: String, line: Int, why: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.why = why
        self.fix = fix
    }

    public var description: String { "restart needed: \(why) at \(file):\(line)" + (fix.map { "; \($0)" } ?? "") }
}

/// A member a patch replaces.
public struct PatchedMember: Sendable, Equatable {
    /// Stable across saves: the planner's key.
    public let key: String
    /// As a user names it: `Greeter.greet(_:)`, `hostGreeting()`, `Greeter.shout`.
    public let name: String
    /// Its line in the file as saved.
    public let line: Int
    /// Whether its code differs from the host's build; false for a member
    /// an earlier patch replaced and the sources now give back as built,
    /// which the patch replaces again with that code.
    public let changed: Bool
    /// Its code as saved, without comments or spacing: two patches whose
    /// members have the same tokens run the same code.
    public let tokens: String
}

/// What one saved host file needs, compared with the text the running host
/// was built from.
public struct FilePatch: Sendable {
    /// The file, project-relative.
    public let file: String
    /// The host module (target) the file belongs to.
    public let module: String
    /// Members whose new bodies the patch installs, in source order.
    public let members: [PatchedMember]
    /// Declarations the saved file adds (functions, types, extensions that
    /// add no conformance): the patch declares them.
    public let additions: [PatchedMember]
    /// What cannot be patched. When not empty, nothing of the save loads.
    public let restartNeeded: [RestartNeeded]
    /// The patch's source for this file, when it has members or additions.
    let generated: GeneratedFile?

    /// Whether the patch has anything to load for this file.
    public var isEmpty: Bool { members.isEmpty && additions.isEmpty }
}

/// Compares a host source file as built with the same file as saved, and
/// plans the patch that makes the running host run the saved code
/// (docs/RELOADING.md, "Patching the host's own code").
public enum PatchPlanner {
    /// Route registration calls: a closure (or a `use:` handler) passed to
    /// one of these is stored when the code runs, at start-up.
    static let routeVerbs: Set<String> = ["get", "post", "put", "patch", "delete", "head", "options", "on", "webSocket"]

    /// Plans `file` (project-relative) of host module `module`: `built` is
    /// its text in the build the host runs, `saved` its text now, and
    /// `replaced` the keys of members earlier patches replaced, which the
    /// patch replaces again even where they are as built.
    /// Diagnostics of the patch's code point at `sourcePath` (the file's
    /// absolute path), where the user wrote it.
    public static func plan(
        file: String, module: String, built: String, saved: String, replaced: Set<String> = [], sourcePath: String? = nil
    ) -> FilePatch {
        let old = SourceDeclarations(file: file, source: built)
        let new = SourceDeclarations(file: file, source: saved)
        var restart: [RestartNeeded] = []
        var members: [(PatchedMember, Declaration)] = []
        var additions: [(PatchedMember, Declaration)] = []
        func member(_ declaration: Declaration, changed: Bool) -> PatchedMember {
            PatchedMember(key: declaration.key, name: displayName(declaration), line: declaration.line, changed: changed, tokens: declaration.tokens)
        }
        // Containers the saved file adds: their members come with them.
        var addedContainers: Set<String> = []

        if old.topLevelCode != new.topLevelCode {
            restart.append(
                RestartNeeded(
                    file: file, line: new.topLevelLine ?? old.topLevelLine ?? 1,
                    why: "top-level code changed, which ran once, at start-up",
                    fix: "code in a function it calls is patched live"))
        }
        for declaration in new.all {
            if let container = declaration.context?.containerKey, addedContainers.contains(container) {
                if case .container = declaration.kind { addedContainers.insert(declaration.key) }
                continue
            }
            let before = old.declaration(declaration.key)
            switch declaration.kind {
            case .fixed(let what):
                if before == nil {
                    restart.append(RestartNeeded(file: file, line: declaration.line, why: "\(what) was added"))
                } else if before?.tokens != declaration.tokens {
                    restart.append(RestartNeeded(file: file, line: declaration.line, why: "\(what) changed"))
                }
            case .container:
                if let before {
                    if before.tokens != declaration.tokens {
                        restart.append(
                            RestartNeeded(
                                file: file, line: declaration.line,
                                why: "the declaration of \(displayName(declaration)) changed (its generic parameters, conformances or attributes)"))
                    }
                } else {
                    addedContainers.insert(declaration.key)
                    additions.append((member(declaration, changed: true), declaration))
                }
            case .replaceable:
                guard let before else {
                    if hasModifier(declaration.syntax, "override") {
                        restart.append(RestartNeeded(file: file, line: declaration.line, why: "an override was added"))
                    } else {
                        additions.append((member(declaration, changed: true), declaration))
                    }
                    continue
                }
                let changed = before.tokens != declaration.tokens
                guard changed || replaced.contains(declaration.key) else { continue }
                if changed, registersRoutes(before.syntax) || registersRoutes(declaration.syntax) {
                    restart.append(
                        RestartNeeded(
                            file: file, line: declaration.line,
                            why: "\(displayName(declaration)) registers routes, which ran once, at start-up, and stored their closures",
                            fix: "a handler that is a method (`use: controller.list`) or that calls a function is patched live"))
                    continue
                }
                if isOperator(declaration.syntax) {
                    restart.append(RestartNeeded(file: file, line: declaration.line, why: "an operator changed, and patches cannot replace operators"))
                    continue
                }
                members.append((member(declaration, changed: changed), declaration))
            }
        }
        for declaration in old.all where new.declaration(declaration.key) == nil {
            if case .fixed(let what) = declaration.kind {
                restart.append(RestartNeeded(file: file, line: declaration.line, why: "\(what) was removed"))
            }
        }
        restart.sort { $0.line < $1.line }
        let generated =
            restart.isEmpty && !(members.isEmpty && additions.isEmpty)
            ? GeneratedFile(
                file: file, sourcePath: sourcePath, module: module, imports: new.imports, members: members.map(\.1),
                additions: additions.map(\.1), converter: new.converter)
            : nil
        return FilePatch(
            file: file, module: module, members: members.map(\.0), additions: additions.map(\.0), restartNeeded: restart,
            generated: generated)
    }

    /// `Greeter.greet(_:)`, `hostGreeting()`, `Greeter.shout`, `Greeter.subscript(_:)`, `Outer.Inner`.
    static func displayName(_ declaration: Declaration) -> String {
        let prefix = declaration.context.map { $0.typePath + "." } ?? ""
        if let function = declaration.syntax.as(FunctionDeclSyntax.self) {
            return prefix + function.name.text + "(" + function.signature.parameterClause.parameters.map { $0.firstName.text + ":" }.joined() + ")"
        }
        if let variable = declaration.syntax.as(VariableDeclSyntax.self), let binding = variable.bindings.first {
            return prefix + binding.pattern.trimmedDescription
        }
        if let subscriptDecl = declaration.syntax.as(SubscriptDeclSyntax.self) {
            return prefix + "subscript(" + subscriptLabels(subscriptDecl) + ")"
        }
        if let named = declaration.syntax.asProtocol(NamedDeclSyntax.self) { return prefix + named.name.text }
        if let extensionDecl = declaration.syntax.as(ExtensionDeclSyntax.self) {
            return "extension " + extensionDecl.extendedType.trimmedDescription
        }
        return prefix + declaration.key
    }

    /// A subscript's argument labels as `for:` names them: a subscript's
    /// parameters have none unless written twice.
    static func subscriptLabels(_ subscriptDecl: SubscriptDeclSyntax) -> String {
        subscriptDecl.parameterClause.parameters.map { ($0.secondName == nil ? "_" : $0.firstName.text) + ":" }.joined()
    }

    static func hasModifier(_ syntax: Syntax, _ name: String) -> Bool {
        guard let modifiers = syntax.asProtocol(WithModifiersSyntax.self)?.modifiers else { return false }
        return modifiers.contains { $0.name.text == name }
    }

    static func isOperator(_ syntax: Syntax) -> Bool {
        guard let function = syntax.as(FunctionDeclSyntax.self) else { return false }
        if case .binaryOperator = function.name.tokenKind { return true }
        if case .prefixOperator = function.name.tokenKind { return true }
        if case .postfixOperator = function.name.tokenKind { return true }
        return false
    }

    /// Whether the code registers a route: calls `get`, `post`… with a
    /// closure or a `use:` handler, which the router stores.
    static func registersRoutes(_ syntax: Syntax) -> Bool {
        final class Finder: SyntaxVisitor {
            var found = false
            override func visit(_ node: FunctionCallExprSyntax) -> SyntaxVisitorContinueKind {
                if let member = node.calledExpression.as(MemberAccessExprSyntax.self),
                    PatchPlanner.routeVerbs.contains(member.declName.baseName.text),
                    node.trailingClosure != nil
                        || node.arguments.contains(where: { $0.label?.text == "use" || $0.expression.is(ClosureExprSyntax.self) })
                {
                    found = true
                    return .skipChildren
                }
                return .visitChildren
            }
        }
        let finder = Finder(viewMode: .sourceAccurate)
        finder.walk(syntax)
        return finder.found
    }
}
