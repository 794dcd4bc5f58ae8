import SwiftParser
import SwiftSyntax

/// One change to a file's text, at byte offsets of the text as it was
/// parsed: the syntax tree finds where, the edit says what. Edits splice
/// text rather than reprint a rewritten tree, so that every byte the
/// change does not touch (comments, blank lines, the author's layout)
/// stays as it was.
struct TextEdit: Sendable, Equatable {
    /// Where the replaced bytes begin (UTF-8 offset).
    let offset: Int
    /// How many bytes are replaced; 0 for an insertion.
    let length: Int
    /// What goes there.
    let text: String

    /// `text` inserted at `offset`.
    static func insert(_ text: String, at offset: Int) -> TextEdit { TextEdit(offset: offset, length: 0, text: text) }

    /// `node`'s text (its trivia left alone) replaced by `text`.
    static func replace(_ node: some SyntaxProtocol, with text: String) -> TextEdit {
        let start = node.positionAfterSkippingLeadingTrivia.utf8Offset
        return TextEdit(offset: start, length: node.endPositionBeforeTrailingTrivia.utf8Offset - start, text: text)
    }
}

/// `edits` made on `source`. Edits at one offset land in the order they are
/// given; edits must not overlap (a mistake in the editor, so it traps).
func applying(_ edits: [TextEdit], to source: String) -> String {
    var bytes = Array(source.utf8)
    let ordered = edits.enumerated().sorted { ($0.element.offset, $0.offset) > ($1.element.offset, $1.offset) }
    var limit = Int.max
    for (_, edit) in ordered {
        precondition(edit.offset + edit.length <= limit, "overlapping source edits")
        bytes.replaceSubrange(edit.offset..<(edit.offset + edit.length), with: Array(edit.text.utf8))
        limit = edit.offset
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The source of one file, parsed, with what the edits need to know of its layout.
struct ParsedSource {
    let text: String
    let bytes: [UInt8]
    let tree: SourceFileSyntax

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
        tree = ParsedSource.parse(text)
    }

    static func parse(_ text: String) -> SourceFileSyntax {
        var text = text
        return text.withUTF8 { Parser.parse(source: $0) }
    }

    /// The whitespace that begins the line holding `offset`.
    func indentation(at offset: Int) -> String {
        var start = min(offset, bytes.count)
        while start > 0, bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        var end = start
        while end < bytes.count, bytes[end] == UInt8(ascii: " ") || bytes[end] == UInt8(ascii: "\t") { end += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The indentation of the line `node` begins on.
    func indentation(of node: some SyntaxProtocol) -> String {
        indentation(at: node.positionAfterSkippingLeadingTrivia.utf8Offset)
    }

    /// One level of indentation as this file writes it: a tab if its lines
    /// are indented with tabs, else four spaces.
    var indentUnit: String { text.contains("\n\t") ? "\t" : "    " }

    /// Where the lines that belong to `node` begin: the start of the line
    /// of its first comment, or of its first token when it has none. What is
    /// inserted there goes above the node's comments, not between them and it.
    func lineStart(of node: some SyntaxProtocol) -> Int {
        var offset = node.position.utf8Offset
        let end = node.positionAfterSkippingLeadingTrivia.utf8Offset
        // Skip the blank lines of the leading trivia: the node's lines begin
        // at the first line with something on it.
        var lineBegin = offset
        while offset < end {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\n") {
                lineBegin = offset + 1
            } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") {
                break
            }
            offset += 1
        }
        // A node that shares its line with what comes before it (`{ let x`) begins where it is.
        var back = lineBegin
        while back > 0, bytes[back - 1] == UInt8(ascii: " ") || bytes[back - 1] == UInt8(ascii: "\t") { back -= 1 }
        if back > 0, bytes[back - 1] != UInt8(ascii: "\n"), lineBegin == node.position.utf8Offset {
            return node.positionAfterSkippingLeadingTrivia.utf8Offset
        }
        return lineBegin
    }
}

/// `text` with every line after the first indented by `indent`.
func indentingFollowingLines(_ text: String, by indent: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        .map { $0.offset == 0 || $0.element.isEmpty ? String($0.element) : indent + $0.element }.joined(separator: "\n")
}

/// `lines` as a block of whole lines, each indented by `indent`, ending in a newline.
func block(_ lines: [String], indent: String) -> String {
    lines.map { $0.isEmpty ? "\n" : indent + $0 + "\n" }.joined()
}

extension ParsedSource {
    /// The edit that appends `elements` to an array literal, in its layout:
    /// one per line, as the others, when it spans lines; inline otherwise.
    func append(_ elements: [String], to array: ArrayExprSyntax) -> [TextEdit] {
        guard !elements.isEmpty else { return [] }
        guard let last = array.elements.last else {
            return [.insert(elements.joined(separator: ", "), at: array.leftSquare.endPositionBeforeTrailingTrivia.utf8Offset)]
        }
        let multiline = last.leadingTrivia.contains(where: \.isNewline) || array.rightSquare.leadingTrivia.contains(where: \.isNewline)
        if multiline {
            let indent = indentation(of: last)
            let tail = elements.map { "\n" + indent + indentingFollowingLines($0, by: indent) }
            if let comma = last.trailingComma {
                // After the comma's own comment, if it has one: it stays on its line.
                return [.insert(tail.map { $0 + "," }.joined(), at: comma.endPosition.utf8Offset)]
            }
            return [
                .insert(",", at: last.expression.endPositionBeforeTrailingTrivia.utf8Offset),
                .insert(tail.joined(separator: ","), at: last.endPosition.utf8Offset),
            ]
        }
        if let comma = last.trailingComma {
            return [.insert(" " + elements.map { $0 + "," }.joined(separator: " "), at: comma.endPositionBeforeTrailingTrivia.utf8Offset)]
        }
        return [.insert(", " + elements.joined(separator: ", "), at: last.expression.endPositionBeforeTrailingTrivia.utf8Offset)]
    }

    /// The edit that adds the argument `text` (`label: value`) to `call`:
    /// before the first argument labelled one of `before` (an initializer's
    /// arguments have an order), else after the last, in the call's layout.
    func insert(argument text: String, into call: FunctionCallExprSyntax, before: [String]) -> [TextEdit] {
        let arguments = call.arguments
        if let next = arguments.first(where: { before.contains($0.label?.text ?? "") }) {
            let onItsLine = next.leadingTrivia.contains(where: \.isNewline)
            let indent = indentation(of: next)
            let separator = onItsLine ? "\n" + indent : " "
            return [.insert(indentingFollowingLines(text, by: onItsLine ? indent : "") + "," + separator, at: next.positionAfterSkippingLeadingTrivia.utf8Offset)]
        }
        guard let last = arguments.last else {
            return [.insert(text, at: call.leftParen?.endPositionBeforeTrailingTrivia.utf8Offset ?? call.calledExpression.endPositionBeforeTrailingTrivia.utf8Offset)]
        }
        if last.leadingTrivia.contains(where: \.isNewline) {
            let indent = indentation(of: last)
            let line = "\n" + indent + indentingFollowingLines(text, by: indent)
            if let comma = last.trailingComma { return [.insert(line + ",", at: comma.endPosition.utf8Offset)] }
            return [.insert("," + line, at: last.expression.endPositionBeforeTrailingTrivia.utf8Offset)]
        }
        if let comma = last.trailingComma { return [.insert(" " + text + ",", at: comma.endPositionBeforeTrailingTrivia.utf8Offset)] }
        return [.insert(", " + text, at: last.expression.endPositionBeforeTrailingTrivia.utf8Offset)]
    }
}

/// The argument of `call` labelled `label`.
func argument(_ label: String, of call: FunctionCallExprSyntax) -> LabeledExprSyntax? {
    call.arguments.first { $0.label?.text == label }
}

/// The value of a string literal with no interpolation; nil for anything else.
func stringValue(_ expression: ExprSyntax?) -> String? {
    guard let literal = expression?.as(StringLiteralExprSyntax.self) else { return nil }
    var value = ""
    for segment in literal.segments {
        guard let text = segment.as(StringSegmentSyntax.self) else { return nil }
        value += text.content.text
    }
    return value
}

/// The name a call calls: `Package` of `Package(…)`, `target` of `.target(…)`.
func calledName(_ call: FunctionCallExprSyntax) -> String? {
    if let reference = call.calledExpression.as(DeclReferenceExprSyntax.self) { return reference.baseName.text }
    if let member = call.calledExpression.as(MemberAccessExprSyntax.self) { return member.declName.baseName.text }
    return nil
}

/// Every call in `node`, in source order.
func calls(in node: some SyntaxProtocol) -> [FunctionCallExprSyntax] {
    declarations(FunctionCallExprSyntax.self, in: node)
}
