import Hot

/// JSON text to and from `Term`: strict RFC 8259 in, deterministic text out.
///
/// Two `Term` cases have no JSON counterpart, so they travel as one-key objects:
/// `.bytes` as `{"$bytes":"<base64>"}` and `.pid` as `{"$pid":"<0.7.0>"}`.
/// A genuine one-key map whose key is `$bytes`, `$pid`, `$$bytes`, ... would read
/// back as a tag, so the renderer prefixes such a key with one more `$` and the
/// parser strips it again; every `Term` therefore survives render-then-parse.
public enum JSON {
    /// Containers nested deeper than this are rejected, so hostile input cannot exhaust the stack.
    public static let maxDepth = 256

    /// Parses one JSON value; anything but whitespace after it is an error.
    public static func parse(_ text: String) throws(JSONError) -> Term {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    /// Parses one JSON value from UTF-8 bytes, which are validated as UTF-8.
    public static func parse(_ utf8: some Collection<UInt8>) throws(JSONError) -> Term {
        var parser = Parser(bytes: Array(utf8))
        return try parser.parseDocument()
    }

    /// Reads a command-line argument: JSON when it parses as JSON, else the
    /// bare string. Text refused only for nesting too deep was meant as JSON:
    /// that error is thrown rather than the text passed on as a string.
    public static func parseWord(_ text: String) throws(JSONError) -> Term {
        do { return try parse(text) } catch {
            if error.isTooDeep { throw error }
            return .string(text)
        }
    }

    static let tooDeepMessage = "nesting deeper than \(maxDepth) levels"

    /// Renders a term as JSON with keys sorted, compact or with 2-space indentation.
    public static func render(_ term: Term, pretty: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        Renderer(pretty: pretty).write(term, into: &out, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// True for `$bytes`, `$$pid`, ...: keys that a one-key map must escape to stay a map.
    static func isTagLike(_ key: String) -> Bool {
        guard key.utf8.first == UInt8(ascii: "$") else { return false }
        let rest = key.utf8.drop(while: { $0 == UInt8(ascii: "$") })
        return rest.elementsEqual("bytes".utf8) || rest.elementsEqual("pid".utf8)
    }
}

/// A JSON syntax error, located by 1-based line and column (columns count Unicode scalars).
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based line of the offending input.
    public let line: Int
    /// 1-based column within that line, in Unicode scalars.
    public let column: Int
    /// What was wrong, e.g. "expected ',' or '}' after object member".
    public let message: String

    /// Makes an error from an already computed position.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// Whether the text was refused for nesting deeper than `JSON.maxDepth`.
    public var isTooDeep: Bool { message == JSON.tooDeepMessage }

    /// "line 3, column 14: expected ..." so that editors and humans can jump to it.
    public var description: String { "line \(line), column \(column): \(message)" }
}

// MARK: - Parsing

private let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

private struct Parser {
    let bytes: [UInt8]
    var pos = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONError) -> Term {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard pos == bytes.count else { throw error("unexpected trailing characters after JSON value") }
        return value
    }

    // Positions are computed only when an error happens, so the happy path never counts lines.
    func error(_ message: String, at offset: Int? = nil) -> JSONError {
        let end = min(offset ?? pos, bytes.count)
        var line = 1, column = 1
        for b in bytes[..<end] {
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONError(line: line, column: column, message: message)
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONError) -> Term {
        guard pos < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case quote: return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character, expected a value")
        }
    }

    mutating func expectLiteral(_ word: String) throws(JSONError) {
        let start = pos
        for expected in word.utf8 {
            guard pos < bytes.count, bytes[pos] == expected else {
                throw error("invalid literal, expected '\(word)'", at: start)
            }
            pos += 1
        }
    }

    mutating func enterContainer() throws(JSONError) {
        depth += 1
        guard depth <= JSON.maxDepth else { throw error(JSON.tooDeepMessage) }
    }

    mutating func parseArray() throws(JSONError) -> Term {
        try enterContainer()
        pos += 1
        var items: [Term] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .list(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input, expected ',' or ']'") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: "]") { break }
            guard b == UInt8(ascii: ",") else { throw error("expected ',' or ']' after array element", at: pos - 1) }
        }
        depth -= 1
        return .list(items)
    }

    mutating func parseObject() throws(JSONError) -> Term {
        try enterContainer()
        pos += 1
        var fields: [String: Term] = [:]
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .map(fields)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input, expected an object key") }
            guard bytes[pos] == quote else { throw error("expected '\"' to begin an object key") }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' after object key") }
            pos += 1
            skipWhitespace()
            fields[key] = try parseValue()  // RFC 8259 leaves duplicates open; last wins, like most parsers
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input, expected ',' or '}'") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: "}") { break }
            guard b == UInt8(ascii: ",") else { throw error("expected ',' or '}' after object member", at: pos - 1) }
        }
        depth -= 1
        return Self.untag(fields)
    }

    /// Turns the tagged one-key objects back into `.bytes`/`.pid`, and unescapes `$$`-keys.
    static func untag(_ fields: [String: Term]) -> Term {
        guard fields.count == 1, let only = fields.first, JSON.isTagLike(only.key) else { return .map(fields) }
        switch (only.key, only.value) {
        case ("$bytes", .string(let text)): if let data = Base64.decode(text) { return .bytes(data) }
        case ("$pid", .string(let text)): if let pid = Pid(parsing: text) { return .pid(pid) }
        default: break
        }
        if only.key.utf8.starts(with: "$$".utf8) { return .map([String(only.key.dropFirst()): only.value]) }
        return .map(fields)
    }

    mutating func parseString() throws(JSONError) -> String {
        let open = pos
        pos += 1
        // Escapes are rare: copy into `scratch` only once one shows up.
        var scratch: [UInt8] = []
        var escaped = false
        var runStart = pos
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: open) }
            let b = bytes[pos]
            if b == quote {
                let text: String
                if escaped {
                    scratch.append(contentsOf: bytes[runStart..<pos])
                    text = String(decoding: scratch, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[runStart..<pos], as: UTF8.self)
                }
                pos += 1
                return text
            } else if b == backslash {
                escaped = true
                scratch.append(contentsOf: bytes[runStart..<pos])
                try parseEscape(into: &scratch)
                runStart = pos
            } else if b < 0x20 {
                throw error("unescaped control character in string")
            } else if b < 0x80 {
                pos += 1
            } else {
                guard let length = UTF8Scan.sequenceLength(bytes, at: pos) else { throw error("invalid UTF-8") }
                pos += length
            }
        }
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(JSONError) {
        let start = pos
        pos += 1
        guard pos < bytes.count else { throw error("unterminated string") }
        let c = bytes[pos]
        pos += 1
        switch c {
        case quote, backslash, UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4(escapeStart: start)
            if scalar & 0xFC00 == 0xD800 {
                // A high surrogate is only half a character; its low half must follow at once.
                guard pos + 1 < bytes.count, bytes[pos] == backslash, bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate in \\u escape", at: start)
                }
                let lowStart = pos
                pos += 2
                let low = try readHex4(escapeStart: lowStart)
                guard low & 0xFC00 == 0xDC00 else { throw error("unpaired surrogate in \\u escape", at: start) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar & 0xFC00 == 0xDC00 {
                throw error("unpaired surrogate in \\u escape", at: start)
            }
            UTF8Scan.append(scalar, to: &out)
        default:
            throw error("invalid escape sequence", at: start)
        }
    }

    mutating func readHex4(escapeStart: Int) throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count else { throw error("unterminated \\u escape", at: escapeStart) }
            guard let digit = Hex.value(bytes[pos]) else {
                throw error("invalid \\u escape, expected 4 hex digits", at: escapeStart)
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }

    mutating func skipDigits() -> Int {
        let start = pos
        while pos < bytes.count, bytes[pos] &- UInt8(ascii: "0") < 10 { pos += 1 }
        return pos - start
    }

    mutating func parseNumber() throws(JSONError) -> Term {
        let start = pos
        let negative = bytes[pos] == UInt8(ascii: "-")
        if negative { pos += 1 }
        let intStart = pos
        guard skipDigits() > 0 else { throw error("expected digit in number") }
        if bytes[intStart] == UInt8(ascii: "0"), pos - intStart > 1 {
            throw error("leading zeros are not allowed in numbers", at: intStart)
        }
        var integral = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            integral = false
            pos += 1
            guard skipDigits() > 0 else { throw error("expected digit after '.' in number") }
        }
        if pos < bytes.count, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            integral = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard skipDigits() > 0 else { throw error("expected digit in exponent") }
        }
        if integral, let value = Self.integer(bytes[intStart..<pos], negative: negative) { return .int(value) }
        // The grammar is already checked, so the stdlib's correctly rounded conversion only sees valid text.
        guard let value = Double(String(decoding: bytes[start..<pos], as: UTF8.self)), value.isFinite else {
            throw error("number out of range", at: start)
        }
        return .double(value)
    }

    /// Accumulates negatively so that Int.min fits; nil on overflow (the caller falls back to Double).
    static func integer(_ digits: ArraySlice<UInt8>, negative: Bool) -> Int? {
        var value = 0
        for d in digits {
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(Int(d &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = next
        }
        if negative { return value }
        let (positive, overflow) = (0).subtractingReportingOverflow(value)
        return overflow ? nil : positive
    }
}

// MARK: - Rendering

private struct Renderer {
    let pretty: Bool

    func write(_ term: Term, into out: inout [UInt8], indent: Int) {
        switch term {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .bytes(let data): writeMap([("$bytes", .string(Base64.encode(data)))], into: &out, indent: indent)
        case .pid(let pid): writeMap([("$pid", .string(pid.description))], into: &out, indent: indent)
        case .list(let items):
            guard !items.isEmpty else { return out.append(contentsOf: "[]".utf8) }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(into: &out, indent: indent + 1)
                write(item, into: &out, indent: indent + 1)
            }
            newline(into: &out, indent: indent)
            out.append(UInt8(ascii: "]"))
        case .map(let fields):
            if fields.count == 1, let only = fields.first, JSON.isTagLike(only.key) {
                writeMap([("$" + only.key, only.value)], into: &out, indent: indent)
            } else {
                writeMap(fields.sorted { $0.key < $1.key }, into: &out, indent: indent)
            }
        }
    }

    func writeMap(_ members: [(key: String, value: Term)], into out: inout [UInt8], indent: Int) {
        guard !members.isEmpty else { return out.append(contentsOf: "{}".utf8) }
        out.append(UInt8(ascii: "{"))
        for (i, member) in members.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            newline(into: &out, indent: indent + 1)
            writeString(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            if pretty { out.append(UInt8(ascii: " ")) }
            write(member.value, into: &out, indent: indent + 1)
        }
        newline(into: &out, indent: indent)
        out.append(UInt8(ascii: "}"))
    }

    func newline(into out: inout [UInt8], indent: Int) {
        guard pretty else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * indent))
    }

    func writeDouble(_ d: Double, into out: inout [UInt8]) {
        // JSON has no NaN or infinity; null is what JavaScript's JSON.stringify emits too.
        guard d.isFinite else { return out.append(contentsOf: "null".utf8) }
        // `description` is the shortest text that reads back to the same bits, and is valid JSON.
        let text = d.description.utf8
        out.append(contentsOf: text)
        // Without '.' or an exponent it would read back as .int; the stdlib never does this, but be sure.
        if !text.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) {
            out.append(contentsOf: ".0".utf8)
        }
    }

    func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(quote)
        for b in s.utf8 {
            switch b {
            case quote: out.append(contentsOf: [backslash, quote])
            case backslash: out.append(contentsOf: [backslash, backslash])
            case 0x0A: out.append(contentsOf: [backslash, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [backslash, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [backslash, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [backslash, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [backslash, UInt8(ascii: "f")])
            case ..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                Hex.append(b, to: &out)
            default: out.append(b)
            }
        }
        out.append(quote)
    }
}
