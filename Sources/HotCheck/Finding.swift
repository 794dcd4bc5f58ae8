/// One site in a module's sources that does not survive a reload as its
/// author may think: state that starts fresh in each version, or work that
/// goes on running the old version's code (docs/ARCHITECTURE.md, "Build
/// checks"). `hot build` prints it as a warning, or as an error under
/// `--strict`.
public struct Finding: Sendable, Hashable, CustomStringConvertible {
    /// What was found. The first four are module-level state, the rest work
    /// started outside Hot's API.
    public enum Kind: String, Sendable, CaseIterable {
        /// A stored `var` at the top level of a file.
        case globalVar
        /// A stored `static var` (or `class var`) in a type or extension.
        case staticVar
        /// A top-level or static declaration marked `nonisolated(unsafe)`.
        case nonisolatedUnsafe
        /// A top-level or static `let` holding a synchronisation box (`SourceCheck.boxTypes`).
        case synchronizedState
        /// `Task { }`, `Task(…)`.
        case task
        /// `Task.detached`.
        case detachedTask
        /// `Thread(…)`, `Thread.detachNewThread`.
        case thread
        /// `async` or `asyncAfter` on a receiver rooted at `DispatchQueue`.
        case dispatch
        /// `pthread_create`.
        case pthread

        /// Whether it is state (else work).
        public var isState: Bool {
            switch self {
            case .globalVar, .staticVar, .nonisolatedUnsafe, .synchronizedState: true
            case .task, .detachedTask, .thread, .dispatch, .pthread: false
            }
        }

        /// What to do about it, the same for every site of its family.
        public var fix: String {
            isState
                ? "such state belongs to this version and starts fresh in the next one; keep it in a server's state "
                    + "(crosses by codeChange) or in a `Kept` value, the node's kept state (docs/RELOADING.md), or mark the site `// hot: allow`"
                : "this work keeps running the old version's code after a reload and purge cannot stop it; start it with "
                    + "`Tasks.start`, Hot's tracked tasks (docs/RELOADING.md), or a `Process.spawn` process, or mark it `// hot: allow`"
        }
    }

    /// How `hot build` reports a finding.
    public enum Severity: String, Sendable {
        case warning, error
    }

    /// The file as the checker was given it (project-relative in a build).
    public let file: String
    /// 1-based line of the site.
    public let line: Int
    /// 1-based column of the site, in UTF-8 bytes as swiftc counts.
    public let column: Int
    public let kind: Kind
    /// What was found, e.g. "top-level var 'hits' is module-level mutable state".
    public let message: String
    /// The declarations the site is in, innermost first: a state finding's
    /// own names, then its enclosing types, functions and variables. A
    /// hot.json allow entry `FILE:NAME` matches any of them.
    public let declarations: [String]

    /// A finding from its fields.
    public init(file: String, line: Int, column: Int, kind: Kind, message: String, declarations: [String] = []) {
        self.file = file
        self.line = line
        self.column = column
        self.kind = kind
        self.message = message
        self.declarations = declarations
    }

    /// What to do about it.
    public var fix: String { kind.fix }

    /// The compiler's diagnostic format, which editors pick up:
    /// `path:line:col: warning: [hot] <what>; <fix>`, `path` being `file`
    /// under `root` (the project's folder) when one is given.
    public func diagnostic(_ severity: Severity, root: String? = nil) -> String {
        let path = root.map { $0 + "/" + file } ?? file
        return "\(path):\(line):\(column): \(severity.rawValue): [hot] \(message); \(fix)"
    }

    public var description: String { diagnostic(.warning) }
}
