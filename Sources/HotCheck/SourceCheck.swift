import SwiftParser
import SwiftSyntax

/// `hot build`'s checks of a module's sources (docs/ARCHITECTURE.md, "Build
/// checks"): module-level state, which starts fresh in each version, and
/// work started outside Hot's API, which keeps running the old version's
/// code after a reload. Found in the syntax tree swift-syntax's parser
/// makes, so that comments, string literals and names that merely look
/// alike (`myTask(`, `TaskList`) never count.
public enum SourceCheck {
    /// The synchronisation boxes whose construction in a top-level or static
    /// `let` is module-level mutable state: the standard library's, swift-atomics',
    /// SwiftNIO's and Foundation's usual ones. Kept short on purpose: each
    /// entry must be a type that holds (or guards) state, never a value.
    public static let boxTypes: Set<String> = [
        "Atomic", "Mutex", "ManagedAtomic", "NIOLockedValueBox", "OSAllocatedUnfairLock", "NSLock",
    ]

    /// Modules a flagged name may be qualified with (`_Concurrency.Task`,
    /// `Synchronization.Atomic`): the ones that define those names.
    static let qualifyingModules: Set<String> = [
        "_Concurrency", "Foundation", "Dispatch", "Glibc", "Musl", "Darwin", "Synchronization", "Atomics", "NIOConcurrencyHelpers", "os",
    ]

    /// The findings of one module's files, in file order. A work site is
    /// left out when the module declares the name it calls (its own `Task`
    /// type, say) in `files` or `alongside` (the include folders' files,
    /// compiled into the same module).
    public static func findings(in files: [FileCheck], alongside others: [FileCheck] = []) -> [Finding] {
        let declared = (files + others).reduce(into: Set<String>()) { $0.formUnion($1.declaredNames) }
        return files.flatMap { file in
            file.sites.filter { site in site.root.map { !declared.contains($0) } ?? true }.map(\.finding)
        }
    }
}

/// One file, parsed and walked: its sites not silenced by a `// hot: allow`
/// comment, and the names it declares.
public struct FileCheck: Sendable {
    /// The file as given.
    public let file: String
    /// Every type, typealias and function name the file declares.
    public let declaredNames: Set<String>
    /// The sites no allow comment silences.
    let sites: [Site]

    /// Parses `source` (a file's bytes; invalid code parses too, with what
    /// the parser can make of it) and finds its sites.
    public init(file: String, source: [UInt8]) {
        self.file = file
        let tree = source.withUnsafeBufferPointer { Parser.parse(source: $0) }
        // One line table for the file, shared by the walk and the comments.
        let converter = SourceLocationConverter(fileName: file, tree: tree)
        let finder = SiteFinder(file: file, converter: converter)
        finder.walk(tree)
        declaredNames = finder.declaredNames
        let allowed = allowLines(in: tree, converter: converter)
        sites = finder.sites.filter { site in !allowed.contains { site.lines.contains($0) } }
    }

    /// A file's findings on its own, before the module-wide filter.
    public var findings: [Finding] { SourceCheck.findings(in: [self]) }
}

/// The lines holding a `// hot: allow` comment (`// hot: allow <reason>` too).
private func allowLines(in tree: SourceFileSyntax, converter: SourceLocationConverter) -> Set<Int> {
    var lines: Set<Int> = []
    func scan(_ trivia: Trivia, from start: AbsolutePosition) {
        var position = start
        for piece in trivia {
            if case .lineComment(let text) = piece, isAllowComment(text) {
                lines.insert(converter.location(for: position).line)
            }
            position += piece.sourceLength
        }
    }
    for token in tree.tokens(viewMode: .sourceAccurate) {
        scan(token.leadingTrivia, from: token.position)
        scan(token.trailingTrivia, from: token.endPositionBeforeTrailingTrivia)
    }
    return lines
}

/// Whether a line comment is `// hot: allow`, alone or followed by a reason.
func isAllowComment(_ comment: String) -> Bool {
    guard comment.hasPrefix("//") else { return false }
    let body = comment.dropFirst(2).drop { $0 == " " || $0 == "\t" }
    guard body.hasPrefix("hot: allow") else { return false }
    return body.dropFirst("hot: allow".count).first.map { $0 == " " || $0 == "\t" } ?? true
}
