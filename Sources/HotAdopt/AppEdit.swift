import SwiftSyntax

/// One source file of the app's target: its path relative to the package, and its text.
public struct SourceFile: Sendable, Equatable {
    public let path: String
    public let text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// What `hot adopt` changes in the app's own sources (docs/EMBEDDING.md,
/// "Adopting an app"), in either shape Hummingbird's examples take: a
/// `main.swift` that builds the router and the `Application` itself, or an
/// `@main` type (`AsyncParsableCommand`, or its own `static func main()`)
/// whose application is built by a function such as `buildApplication`.
///
/// - `TrialLoad.runIfRequested()` first thing in `main`: a trial load runs
///   this executable, which must do that and nothing else, before it parses
///   its arguments.
/// - The node made and started in the function that builds the
///   `Application`, before the server listens, and run by it as a service.
/// - One route to the module's export, on the router that Application serves.
public struct AppEdit: Sendable {
    /// The files that change, as they become.
    public let changed: [SourceFile]
    /// The type of the router's request context, which the module's export takes.
    public let context: String

    /// The name the node's service gets where the application is built.
    static let serviceName = "hot"
    /// The route the module's export answers.
    public static let route = "/hot"
    /// The export the route calls.
    public static let export = "hello"
    /// The labels of `Application(…)`'s arguments that follow `services:`.
    static let afterServices = ["onServerRunning", "eventLoopGroupProvider", "logger"]

    /// Edits the app target's `files` (`targetPath`: their folder, for
    /// messages) for `module`, the app serving with `framework`.
    public static func edit(_ files: [SourceFile], targetPath: String, module: String, framework: Framework = .hummingbird) throws(AdoptError) -> AppEdit {
        var sources: [String: ParsedSource] = [:]
        for file in files {
            let source = ParsedSource(file.text)
            if source.tree.hasError { throw .unparsable(file: file.path) }
            sources[file.path] = source
        }
        let paths = files.map(\.path)
        var edits: [String: [TextEdit]] = [:]
        var imports: [String: Set<String>] = [:]

        // Where main begins.
        let entry = try Entry.find(in: paths.map { ($0, sources[$0]!) }, targetPath: targetPath)
        let hasTrial = files.contains { $0.text.contains("TrialLoad.runIfRequested()") }
        if framework == .vapor {
            if !hasTrial {
                edits[entry.path, default: []] += try entry.trialEdits()
                imports[entry.path, default: []].insert("HotNode")
            }
            try vaporEdits(files, sources: sources, targetPath: targetPath, module: module, edits: &edits, imports: &imports)
            return try finish(files, sources: sources, edits: edits, imports: imports, context: "")
        }

        // Where the Application is made.
        let made = paths.flatMap { path in
            calls(in: sources[path]!.tree).filter { calledName($0) == "Application" && argument("router", of: $0) != nil }.map { (path, $0) }
        }
        guard let (appPath, application) = made.first else {
            throw .appShape("no `Application(router: ...)` in \(targetPath): hot adopt runs the node beside the Hummingbird Application it finds there")
        }
        if made.count > 1 { throw .appShape("\(made.count) `Application(router: ...)` calls in \(targetPath); hot adopt wires one") }
        let appSource = sources[appPath]!
        guard let routerName = argument("router", of: application)?.expression.as(DeclReferenceExprSyntax.self)?.baseName.text else {
            throw .appShape("\(appPath): the Application's `router:` is not a name; bind the router to a `let` first, hot adopt adds a route to it")
        }
        let function = application.ancestor(FunctionDeclSyntax.self)
        if let function {
            let effects = function.signature.effectSpecifiers
            guard effects?.asyncSpecifier != nil, effects?.throwsClause != nil else {
                throw .appShape("\(appPath): \(function.name.text)(...) is not `async throws`: the node starts there before the server; make it so and run hot adopt again")
            }
        } else if appPath != entry.path || entry.kind != .topLevel {
            throw .appShape("\(appPath): the Application is made outside a function and outside main.swift; hot adopt starts the node where it is made")
        }
        let statement = application.ancestor(CodeBlockItemSyntax.self)!
        let context = try contextType(router: routerName, near: application, in: paths.map { sources[$0]! }, targetPath: targetPath)

        // First, so that where the node starts in main itself, the trial comes before it.
        if !hasTrial {
            edits[entry.path, default: []] += try entry.trialEdits()
            imports[entry.path, default: []].insert("HotNode")
        }
        if !files.contains(where: { $0.text.contains("HotNodeService") }) {
            let scope: Syntax = function.map(Syntax.init) ?? Syntax(appSource.tree)
            if declares(serviceName, in: scope) {
                throw .appShape("\(appPath): `\(serviceName)` is a name there already; hot adopt names the node's service so")
            }
            // The node starts first thing where the application is made:
            // after the trial, in main.swift, which must stay first.
            let first: CodeBlockItemSyntax?
            if let body = function?.body {
                first = body.statements.first { !isTrialCall($0) }
            } else {
                first = appSource.tree.statements.first { !$0.item.is(ImportDeclSyntax.self) && !isTrialCall($0) }
            }
            let anchor = first ?? statement
            let indent = appSource.indentation(of: anchor)
            edits[appPath, default: []].append(.insert(block(nodeStart, indent: indent) + "\n", at: appSource.lineStart(of: anchor)))
            if let services = argument("services", of: application)?.expression {
                if let array = services.as(ArrayExprSyntax.self) {
                    edits[appPath, default: []] += appSource.append([serviceName], to: array)
                } else {
                    edits[appPath, default: []].append(.replace(services, with: "\(services.trimmedDescription) + [\(serviceName)]"))
                }
            } else {
                edits[appPath, default: []] += appSource.insert(argument: "services: [\(serviceName)]", into: application, before: afterServices)
            }
            imports[appPath, default: []].formUnion(["HotLifecycle", "HotNode"])
        }
        if !files.contains(where: { $0.text.contains(#".handler("\#(module)""#) }) {
            let indent = appSource.indentation(of: statement)
            let route = [
                "// Answered by the current version of the hot module \(module): `hot deploy` changes it while the app serves.",
                #"\#(routerName).get("\#(route)", use: \#(serviceName).node.handler("\#(module)", "\#(export)"))"#,
            ]
            edits[appPath, default: []].append(.insert(block(route, indent: indent), at: appSource.lineStart(of: statement)))
            imports[appPath, default: []].insert("HotHummingbird")
        }
        return try finish(files, sources: sources, edits: edits, imports: imports, context: context)
    }

    /// The files as `edits` and `imports` leave them; a file whose edit
    /// would not parse is refused.
    private static func finish(
        _ files: [SourceFile], sources: [String: ParsedSource], edits: [String: [TextEdit]], imports: [String: Set<String>], context: String
    ) throws(AdoptError) -> AppEdit {
        var changed: [SourceFile] = []
        for file in files {
            guard var fileEdits = edits[file.path] else { continue }
            fileEdits += importEdits(imports[file.path] ?? [], in: sources[file.path]!)
            let text = applying(fileEdits, to: file.text)
            if ParsedSource.parse(text).hasError { throw .uneditable(file: file.path) }
            changed.append(SourceFile(path: file.path, text: text))
        }
        return AppEdit(changed: changed, context: context)
    }

    static let nodeStart = [
        "// The Hot node of this project (socket, cookie and state in .hot/, as with",
        "// `hot start`), booted before the server listens so that the first request",
        "// finds its modules; the Application runs it as one of its services.",
        "let \(serviceName) = try HotNodeService.project()",
        "_ = try await \(serviceName).host.start()",
    ]

    static let trialComment = [
        "// A new version of a hot module is first loaded in a child run of this",
        "// executable (its trial load), which must do that and nothing else.",
    ]

    static func isTrialCall(_ item: CodeBlockItemSyntax) -> Bool {
        item.item.trimmedDescription == "TrialLoad.runIfRequested()"
    }

    /// Imports of `modules` the file lacks, after its last import.
    static func importEdits(_ modules: Set<String>, in source: ParsedSource) -> [TextEdit] {
        let present = Set(source.tree.statements.compactMap { $0.item.as(ImportDeclSyntax.self)?.path.trimmedDescription })
        let missing = modules.subtracting(present).sorted()
        guard !missing.isEmpty else { return [] }
        if let last = source.tree.statements.last(where: { $0.item.is(ImportDeclSyntax.self) }) {
            return [.insert(missing.map { "\nimport \($0)" }.joined(), at: last.endPositionBeforeTrailingTrivia.utf8Offset)]
        }
        return [.insert(missing.map { "import \($0)\n" }.joined() + "\n", at: 0)]
    }

    /// Whether `name` is bound by a pattern (`let name`, `var name`) in `scope`.
    static func declares(_ name: String, in scope: Syntax) -> Bool {
        scope.tokens(viewMode: .sourceAccurate).contains { token in
            token.text == name && token.parent?.is(IdentifierPatternSyntax.self) == true
        }
    }

    /// The request context of the router the Application serves: from the
    /// router's `Router(context: X.self)`, its type `Router<X>`, or the
    /// return type of the function that makes it; `BasicRequestContext`
    /// for a plain `Router()`. A typealias of the target is followed; a type
    /// the target declares itself is refused, for the module cannot import
    /// an executable target.
    static func contextType(
        router: String, near application: FunctionCallExprSyntax, in sources: [ParsedSource], targetPath: String
    ) throws(AdoptError) -> String {
        var found: String?
        let scope: Syntax = application.ancestor(FunctionDeclSyntax.self).map(Syntax.init) ?? Syntax(application.root)
        for binding in bindings(of: router, in: scope) {
            if let type = binding.typeAnnotation?.type, let argument = routerArgument(type) { found = argument }
            if let value = binding.initializer?.value, let type = routerContext(made: value, functions: sources) { found = type }
        }
        if found == nil {
            let made = Set(sources.flatMap { calls(in: $0.tree) }.filter { calledName($0) == "Router" }.compactMap { contextArgument($0) })
            if made.count > 1 {
                throw .appShape("routers of \(made.count) context types in \(targetPath) (\(made.sorted().joined(separator: ", "))) and none plainly the Application's")
            }
            found = made.first
        }
        var type = found ?? "BasicRequestContext"
        let aliases = Dictionary(
            sources.flatMap { declarations(TypeAliasDeclSyntax.self, in: $0.tree) }.map { ($0.name.text, $0.initializer.value.trimmedDescription) },
            uniquingKeysWith: { first, _ in first })
        var seen: Set<String> = []
        while let next = aliases[type], seen.insert(type).inserted { type = next }
        let declared = sources.flatMap { source in
            declarations(StructDeclSyntax.self, in: source.tree).map(\.name.text) + declarations(ClassDeclSyntax.self, in: source.tree).map(\.name.text)
                + declarations(EnumDeclSyntax.self, in: source.tree).map(\.name.text) + declarations(ActorDeclSyntax.self, in: source.tree).map(\.name.text)
        }
        if declared.contains(type) {
            throw .appShape("the request context \(type) is declared in \(targetPath), which a hot module cannot import: move it to a library target first")
        }
        return type
    }

    /// The context of a router made by `value`: `Router(context: X.self)`,
    /// `Router()`, or a call of a function of the target returning `Router<X>`.
    private static func routerContext(made value: ExprSyntax, functions sources: [ParsedSource]) -> String? {
        var expression = value
        while true {
            if let inner = expression.as(TryExprSyntax.self) { expression = inner.expression } else if let inner = expression.as(AwaitExprSyntax.self) {
                expression = inner.expression
            } else { break }
        }
        guard let call = expression.as(FunctionCallExprSyntax.self), let name = calledName(call) else { return nil }
        if name == "Router" { return contextArgument(call) ?? "BasicRequestContext" }
        for source in sources {
            for function in declarations(FunctionDeclSyntax.self, in: source.tree) where function.name.text == name {
                if let type = function.signature.returnClause?.type, let argument = routerArgument(type) { return argument }
            }
        }
        return nil
    }

    /// X of `Router(context: X.self)`.
    private static func contextArgument(_ call: FunctionCallExprSyntax) -> String? {
        guard let member = argument("context", of: call)?.expression.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "self" else { return nil }
        return member.base?.trimmedDescription
    }

    /// X of the type `Router<X>`.
    private static func routerArgument(_ type: TypeSyntax) -> String? {
        guard let identifier = type.as(IdentifierTypeSyntax.self), identifier.name.text == "Router",
            let argument = identifier.genericArgumentClause?.arguments.first
        else { return nil }
        return argument.argument.trimmedDescription
    }

    private static func bindings(of name: String, in scope: Syntax) -> [PatternBindingSyntax] {
        declarations(PatternBindingSyntax.self, in: scope).filter { $0.pattern.as(IdentifierPatternSyntax.self)?.identifier.text == name }
    }
}

/// Every node of type `T` under `root`, in source order.
func declarations<T: SyntaxProtocol>(_ type: T.Type, in root: some SyntaxProtocol) -> [T] {
    var found: [T] = []
    var stack: [Syntax] = [Syntax(root)]
    while let node = stack.popLast() {
        if let match = node.as(T.self) { found.append(match) }
        stack.append(contentsOf: node.children(viewMode: .sourceAccurate).reversed())
    }
    return found
}

extension SyntaxProtocol {
    /// The nearest node of type `T` above this one.
    func ancestor<T: SyntaxProtocol>(_ type: T.Type) -> T? {
        var node = parent
        while let current = node {
            if let match = current.as(T.self) { return match }
            node = current.parent
        }
        return nil
    }
}
