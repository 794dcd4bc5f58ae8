import SwiftSyntax

/// A site before the module-wide filters: its finding, the name it reaches
/// the flagged API by (for a work site: `Task`, `Thread`, `DispatchQueue`,
/// `pthread_create`, which the module may declare itself), and the lines a
/// `// hot: allow` comment silences it from.
struct Site: Sendable {
    let finding: Finding
    let root: String?
    let lines: ClosedRange<Int>
}

/// Walks one file's syntax tree for the sites `hot build` reports: the
/// declarations that make module-level state, and the calls that start work
/// outside Hot's API. Only code is seen, never comments or string literals,
/// and a call counts by what it calls, not by text that looks like it.
final class SiteFinder: SyntaxVisitor {
    private let file: String
    private let converter: SourceLocationConverter
    private(set) var sites: [Site] = []
    /// Every type, typealias and function name the file declares.
    private(set) var declaredNames: Set<String> = []
    /// The declarations around the node being visited, innermost last.
    private var declarations: [String] = []
    /// The innermost type (or extended type) around, for the messages.
    private var types: [String] = []
    /// Inside a function body, closure or accessor: declarations there are locals.
    private var localDepth = 0

    init(file: String, converter: SourceLocationConverter) {
        self.file = file
        self.converter = converter
        super.init(viewMode: .sourceAccurate)
    }

    // MARK: Scopes

    private func enterType(_ name: String) {
        declaredNames.insert(name)
        declarations.append(name)
        types.append(name)
    }

    private func leaveType() {
        declarations.removeLast()
        types.removeLast()
    }

    override func visit(_ node: StructDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node.name.text); return .visitChildren }
    override func visitPost(_ node: StructDeclSyntax) { leaveType() }
    override func visit(_ node: ClassDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node.name.text); return .visitChildren }
    override func visitPost(_ node: ClassDeclSyntax) { leaveType() }
    override func visit(_ node: EnumDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node.name.text); return .visitChildren }
    override func visitPost(_ node: EnumDeclSyntax) { leaveType() }
    override func visit(_ node: ActorDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node.name.text); return .visitChildren }
    override func visitPost(_ node: ActorDeclSyntax) { leaveType() }
    override func visit(_ node: ProtocolDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node.name.text); return .visitChildren }
    override func visitPost(_ node: ProtocolDeclSyntax) { leaveType() }

    override func visit(_ node: ExtensionDeclSyntax) -> SyntaxVisitorContinueKind {
        // Extending a type is not declaring one: `extension Task` shadows nothing.
        let name = node.extendedType.trimmedDescription
        declarations.append(name)
        types.append(name)
        return .visitChildren
    }
    override func visitPost(_ node: ExtensionDeclSyntax) { leaveType() }

    override func visit(_ node: TypeAliasDeclSyntax) -> SyntaxVisitorContinueKind {
        declaredNames.insert(node.name.text)
        return .visitChildren
    }

    override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
        declaredNames.insert(node.name.text)
        declarations.append(node.name.text)
        return .visitChildren
    }
    override func visitPost(_ node: FunctionDeclSyntax) { declarations.removeLast() }
    override func visit(_ node: InitializerDeclSyntax) -> SyntaxVisitorContinueKind { declarations.append("init"); return .visitChildren }
    override func visitPost(_ node: InitializerDeclSyntax) { declarations.removeLast() }

    override func visit(_ node: CodeBlockSyntax) -> SyntaxVisitorContinueKind { localDepth += 1; return .visitChildren }
    override func visitPost(_ node: CodeBlockSyntax) { localDepth -= 1 }
    override func visit(_ node: ClosureExprSyntax) -> SyntaxVisitorContinueKind { localDepth += 1; return .visitChildren }
    override func visitPost(_ node: ClosureExprSyntax) { localDepth -= 1 }
    override func visit(_ node: AccessorBlockSyntax) -> SyntaxVisitorContinueKind { localDepth += 1; return .visitChildren }
    override func visitPost(_ node: AccessorBlockSyntax) { localDepth -= 1 }

    // MARK: State

    override func visit(_ node: VariableDeclSyntax) -> SyntaxVisitorContinueKind {
        let names = node.bindings.flatMap { boundNames($0.pattern) }
        defer { declarations.append(contentsOf: names.reversed()) }
        let isStatic = node.modifiers.contains { $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class) }
        let isTopLevel = localDepth == 0 && types.isEmpty
        // A local belongs to its call, an instance property to its object:
        // neither is the module's.
        guard isStatic || isTopLevel else { return .visitChildren }
        let unsafe = node.modifiers.contains { $0.name.tokenKind == .keyword(.nonisolated) && $0.detail?.detail.text == "unsafe" }
        let isVar = node.bindingSpecifier.tokenKind == .keyword(.var)
        let stored = node.bindings.contains { isStored($0) }
        let quoted = names.map { "'\($0)'" }.joined(separator: ", ")
        let owner = isStatic ? types.last.map { " of \($0)" } ?? "" : ""
        let what = "\(isTopLevel && !isStatic ? "top-level" : "static") \(node.bindingSpecifier.text) \(quoted)\(owner)"
        let kind: Finding.Kind
        let message: String
        if isVar && stored {
            kind = isStatic ? .staticVar : .globalVar
            message = "\(what) is module-level mutable state"
        } else if unsafe {
            kind = .nonisolatedUnsafe
            message = "\(what) is nonisolated(unsafe): module-level state shared without the compiler's checks"
        } else if !isVar, let box = node.bindings.lazy.compactMap(boxType).first {
            kind = .synchronizedState
            message = "\(what) keeps mutable state in \(box)"
        } else {
            return .visitChildren
        }
        // Reported at the declaration's modifiers (or `var`), past its attributes.
        let key = node.modifiers.first?.firstToken(viewMode: .sourceAccurate) ?? node.bindingSpecifier
        record(kind, message, at: key, from: Syntax(node), through: node.bindingSpecifier, declarations: names, root: nil)
        return .visitChildren
    }

    override func visitPost(_ node: VariableDeclSyntax) {
        declarations.removeLast(node.bindings.flatMap { boundNames($0.pattern) }.count)
    }

    /// The names a pattern binds: `x`, or each of `(a, b)`.
    private func boundNames(_ pattern: PatternSyntax) -> [String] {
        if let identifier = pattern.as(IdentifierPatternSyntax.self) { return [identifier.identifier.text] }
        return pattern.tokens(viewMode: .sourceAccurate).compactMap { token in
            if case .identifier = token.tokenKind { return token.text }
            return nil
        }
    }

    /// Whether a binding stores its value: no accessors, or only observers.
    private func isStored(_ binding: PatternBindingSyntax) -> Bool {
        guard let block = binding.accessorBlock else { return true }
        guard case .accessors(let accessors) = block.accessors else { return false }
        return accessors.allSatisfy {
            $0.accessorSpecifier.tokenKind == .keyword(.willSet) || $0.accessorSpecifier.tokenKind == .keyword(.didSet)
        }
    }

    /// The synchronisation box a binding holds, by its type annotation or
    /// the type its initializer constructs (`Atomic<Int>(0)`, `NSLock()`,
    /// `Synchronization.Mutex(…)`, `.init(…)` under an annotation).
    private func boxType(_ binding: PatternBindingSyntax) -> String? {
        if let annotated = binding.typeAnnotation?.type, let name = typeName(annotated), SourceCheck.boxTypes.contains(name) {
            return name
        }
        guard let call = binding.initializer?.value.as(FunctionCallExprSyntax.self) else { return nil }
        var callee = unwrapped(call.calledExpression)
        if let member = callee.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "init", let base = member.base {
            callee = unwrapped(base)
        }
        guard let name = calleeName(callee), SourceCheck.boxTypes.contains(name) else { return nil }
        return name
    }

    /// `Atomic` of `Atomic<Int>` or `Synchronization.Atomic<Int>`.
    private func typeName(_ type: TypeSyntax) -> String? {
        if let identifier = type.as(IdentifierTypeSyntax.self) { return identifier.name.text }
        if let member = type.as(MemberTypeSyntax.self) { return member.name.text }
        return nil
    }

    // MARK: Work

    override func visit(_ node: FunctionCallExprSyntax) -> SyntaxVisitorContinueKind {
        let callee = unwrapped(node.calledExpression)
        // A callee the parser had to invent (source that does not compile) has no token.
        if let (kind, root, key, text) = work(callee), let start = node.calledExpression.firstToken(viewMode: .sourceAccurate) {
            record(kind, "\(text) starts work that Hot does not track", at: start, from: Syntax(node), through: key, declarations: [], root: root)
        }
        return .visitChildren
    }

    /// What a callee starts, if it is one of the flagged APIs: its kind, the
    /// name it is rooted at, the token that names the call, and how the
    /// message spells it.
    private func work(_ callee: ExprSyntax) -> (Finding.Kind, String, TokenSyntax, String)? {
        if let name = calleeName(callee), let token = callee.lastToken(viewMode: .sourceAccurate) {
            switch name {
            case "Task": return (.task, name, token, "`Task { }`")
            case "Thread": return (.thread, name, token, "`Thread(…)`")
            case "pthread_create": return (.pthread, name, token, "`pthread_create`")
            default: break
            }
        }
        guard let member = callee.as(MemberAccessExprSyntax.self), let base = member.base else { return nil }
        let method = member.declName.baseName
        let receiver = unwrapped(base)
        switch (calleeName(receiver), method.text) {
        case ("Task", "init"): return (.task, "Task", method, "`Task { }`")
        case ("Task", "detached"): return (.detachedTask, "Task", method, "`Task.detached`")
        case ("Thread", "init"): return (.thread, "Thread", method, "`Thread(…)`")
        case ("Thread", "detachNewThread"): return (.thread, "Thread", method, "`Thread.detachNewThread`")
        case (_, "async"), (_, "asyncAfter"):
            guard rootName(receiver) == "DispatchQueue" else { return nil }
            return (.dispatch, "DispatchQueue", method, "`DispatchQueue….\(method.text)`")
        default: return nil
        }
    }

    /// The name an expression refers to: `Task`, or `Task` of
    /// `_Concurrency.Task`, a module-qualified name.
    private func calleeName(_ expression: ExprSyntax) -> String? {
        if let reference = expression.as(DeclReferenceExprSyntax.self) { return reference.baseName.identifier?.name }
        if let member = expression.as(MemberAccessExprSyntax.self), let base = member.base?.as(DeclReferenceExprSyntax.self),
            SourceCheck.qualifyingModules.contains(base.baseName.text)
        {
            return member.declName.baseName.identifier?.name
        }
        return nil
    }

    /// The name a receiver chain starts from: `DispatchQueue` of
    /// `DispatchQueue.global(qos: .utility)` or of `DispatchQueue(label: "x")`.
    private func rootName(_ expression: ExprSyntax) -> String? {
        var current = expression
        while true {
            current = unwrapped(current)
            if let name = calleeName(current) { return name }
            if let member = current.as(MemberAccessExprSyntax.self), let base = member.base {
                current = base
            } else if let call = current.as(FunctionCallExprSyntax.self) {
                current = call.calledExpression
            } else {
                return nil
            }
        }
    }

    /// The expression under generic arguments, `?`, `!` and parentheses.
    private func unwrapped(_ expression: ExprSyntax) -> ExprSyntax {
        var current = expression
        while true {
            if let generic = current.as(GenericSpecializationExprSyntax.self) {
                current = generic.expression
            } else if let optional = current.as(OptionalChainingExprSyntax.self) {
                current = optional.expression
            } else if let forced = current.as(ForceUnwrapExprSyntax.self) {
                current = forced.expression
            } else if let tuple = current.as(TupleExprSyntax.self), tuple.elements.count == 1, let only = tuple.elements.first,
                only.label == nil
            {
                current = only.expression
            } else {
                return current
            }
        }
    }

    // MARK: Recording

    /// Records a site at `key`, silenced by an allow comment on any line from
    /// the start of `node` to the line of `last`.
    private func record(
        _ kind: Finding.Kind, _ message: String, at key: TokenSyntax, from node: Syntax, through last: TokenSyntax,
        declarations own: [String], root: String?
    ) {
        let location = key.startLocation(converter: converter)
        let first = node.startLocation(converter: converter).line
        let finding = Finding(
            file: file, line: location.line, column: location.column, kind: kind, message: message,
            declarations: own + declarations.reversed())
        sites.append(Site(finding: finding, root: root, lines: first...max(first, last.startLocation(converter: converter).line)))
    }
}
