import SwiftSyntax

extension AppEdit {
    /// The node's lines in a Vapor app, `app` being the `Application`: made
    /// and handed to the application's lifecycle, which boots it before the
    /// app serves and stops it with the app.
    static func vaporNode(app: String) -> [String] {
        [
            "// The Hot node of this project (socket, cookie and state in .hot/, as with",
            "// `hot start`): it boots with the app, before the app serves, and stops",
            "// with it; `hot stop` stops the app.",
            "let \(serviceName) = try HotNodeLifecycle.project()",
            "\(app).lifecycle.use(\(serviceName))",
        ]
    }

    /// The route to the module's export in a Vapor app.
    static func vaporRoute(app: String, node: String, module: String) -> [String] {
        [
            "// Answered by the current version of the hot module \(module): `hot deploy` changes it while the app serves.",
            #"\#(app).get("\#(route.dropFirst())", use: \#(node).node.handler("\#(module)", "\#(export)"))"#,
        ]
    }

    /// The edits of a Vapor app (docs/EMBEDDING.md, "Adopting an app"): the
    /// node made first thing in the function that configures the
    /// `Application` (`configure(_ app: Application)`, as Vapor's own
    /// template has it), or, without one, just after the application is
    /// made; the route to the module beside it.
    static func vaporEdits(
        _ files: [SourceFile], sources: [String: ParsedSource], targetPath: String, module: String,
        edits: inout [String: [TextEdit]], imports: inout [String: Set<String>]
    ) throws(AdoptError) {
        let hasNode = files.contains { $0.text.contains("HotNodeLifecycle") }
        let hasRoute = files.contains { $0.text.contains(#".handler("\#(module)""#) }
        if hasNode && hasRoute { return }
        let paths = files.map(\.path)
        if hasNode {
            // Adopted by hand, or for another module: the route goes after the node's `use`.
            for path in paths {
                let source = sources[path]!
                for call in calls(in: source.tree) {
                    guard let member = call.calledExpression.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "use",
                        let lifecycle = member.base?.as(MemberAccessExprSyntax.self), lifecycle.declName.baseName.text == "lifecycle",
                        let app = lifecycle.base?.trimmedDescription, let node = call.arguments.first?.expression.trimmedDescription,
                        let statement = call.ancestor(CodeBlockItemSyntax.self)
                    else { continue }
                    edits[path, default: []].append(.insert("\n" + String(block(vaporRoute(app: app, node: node, module: module), indent: source.indentation(of: statement)).dropLast()), at: statement.endPositionBeforeTrailingTrivia.utf8Offset))
                    imports[path, default: []].insert("HotVapor")
                    return
                }
            }
            throw .appShape("\(targetPath) has a HotNodeLifecycle but no `app.lifecycle.use(...)` of it; add `app.get(\"hot\", use: hot.node.handler(\"\(module)\", \"\(export)\"))` by hand")
        }

        // The function that configures the application.
        let functions = paths.flatMap { path in declarations(FunctionDeclSyntax.self, in: sources[path]!.tree).map { (path: path, function: $0) } }
        let configuring = functions.compactMap { found in applicationParameter(of: found.function).map { (found.path, found.function, $0) } }
        let named = configuring.filter { $0.1.name.text == "configure" }
        let chosen = named.count == 1 ? named[0] : configuring.count == 1 ? configuring[0] : nil
        if let (path, function, app) = chosen {
            let source = sources[path]!
            guard function.signature.effectSpecifiers?.throwsClause != nil else {
                throw .appShape("\(path): \(function.name.text)(...) does not throw: the node is made there with `try HotNodeLifecycle.project()`; make it `throws` and run hot adopt again")
            }
            guard let body = function.body else { throw .appShape("\(path): \(function.name.text)(...) has no body") }
            if declares(serviceName, in: Syntax(function)) {
                throw .appShape("\(path): `\(serviceName)` is a name there already; hot adopt names the node so")
            }
            let lines = vaporNode(app: app) + vaporRoute(app: app, node: serviceName, module: module)
            if let first = body.statements.first {
                edits[path, default: []].append(.insert(block(lines, indent: source.indentation(of: first)) + "\n", at: source.lineStart(of: first)))
            } else {
                let indent = source.indentation(of: function) + source.indentUnit
                edits[path, default: []].append(.insert("\n" + block(lines, indent: indent), at: body.leftBrace.endPositionBeforeTrailingTrivia.utf8Offset))
            }
            imports[path, default: []].formUnion(["HotNode", "HotVapor"])
            return
        }
        if configuring.count > 1 {
            let names = configuring.map { "\($0.1.name.text)(...)" }.joined(separator: ", ")
            throw .appShape("\(configuring.count) functions in \(targetPath) take an Application (\(names)) and none alone is `configure`; hot adopt starts the node in the app's configure(_:)")
        }

        // No such function: just after the application is made.
        let made = paths.flatMap { path in calls(in: sources[path]!.tree).filter(makesApplication).map { (path, $0) } }
        guard let (path, call) = made.first else {
            throw .appShape("no `configure(_ app: Application)` and no `Application.make(...)` in \(targetPath): hot adopt starts the node where the Vapor Application is configured")
        }
        if made.count > 1 { throw .appShape("\(made.count) Vapor Applications made in \(targetPath); hot adopt wires one") }
        let source = sources[path]!
        guard let binding = call.ancestor(PatternBindingSyntax.self), let app = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text,
            let statement = call.ancestor(CodeBlockItemSyntax.self)
        else { throw .appShape("\(path): the Application made there is not bound by `let`; bind it to a name first, hot adopt adds the node to it") }
        if let function = call.ancestor(FunctionDeclSyntax.self), function.signature.effectSpecifiers?.throwsClause == nil {
            throw .appShape("\(path): \(function.name.text)(...) does not throw: the node is made there with `try HotNodeLifecycle.project()`; make it `throws` and run hot adopt again")
        }
        let scope: Syntax = call.ancestor(FunctionDeclSyntax.self).map(Syntax.init) ?? Syntax(source.tree)
        if declares(serviceName, in: scope) {
            throw .appShape("\(path): `\(serviceName)` is a name there already; hot adopt names the node so")
        }
        let lines = vaporNode(app: app) + vaporRoute(app: app, node: serviceName, module: module)
        edits[path, default: []].append(.insert("\n" + String(block(lines, indent: source.indentation(of: statement)).dropLast()), at: statement.endPositionBeforeTrailingTrivia.utf8Offset))
        imports[path, default: []].formUnion(["HotNode", "HotVapor"])
    }

    /// The name of `function`'s parameter of type `Application`, if it has one.
    private static func applicationParameter(of function: FunctionDeclSyntax) -> String? {
        for parameter in function.signature.parameterClause.parameters {
            let type = parameter.type.trimmedDescription
            guard type == "Application" || type == "Vapor.Application" else { continue }
            return (parameter.secondName ?? parameter.firstName).text
        }
        return nil
    }

    /// `Application.make(...)` or `Application(...)`.
    private static func makesApplication(_ call: FunctionCallExprSyntax) -> Bool {
        if calledName(call) == "Application" && call.calledExpression.is(DeclReferenceExprSyntax.self) { return true }
        guard let member = call.calledExpression.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "make" else { return false }
        let base = member.base?.trimmedDescription
        return base == "Application" || base == "Vapor.Application"
    }
}
