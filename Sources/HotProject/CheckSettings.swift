import HotPlatform

/// hot.json's `checks`: how `hot build` treats what its checks find
/// (docs/ARCHITECTURE.md, "Build checks").
///
/// ```json
/// "checks": {"strict": false, "allow": ["hello/hello.swift:hits", "hello/clock.swift:12", "hello/legacy.swift"]}
/// ```
public struct CheckSettings: Codable, Sendable, Equatable {
    /// Findings are errors, as `--strict` makes them: for CI.
    public var strict: Bool
    /// The sites that are meant, each reported no more.
    public var allow: [AllowEntry]

    /// Settings from their fields; the defaults warn about every site.
    public init(strict: Bool = false, allow: [AllowEntry] = []) {
        self.strict = strict
        self.allow = allow
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case strict, allow }

    /// Reads hot.json's `checks`: a field it does not take, or an entry of
    /// `allow` of another shape, is refused in one line that names it.
    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownFields(in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        strict = try c.decodeIfPresent(Bool.self, forKey: .strict) ?? false
        allow = try (c.decodeIfPresent([String].self, forKey: .allow) ?? []).map { text throws(KnownFields.Refused) in
            guard let entry = AllowEntry(text) else {
                throw KnownFields.Refused(description: "\"checks.allow\" entry \"\(text)\" is not \(AllowEntry.shapes)")
            }
            return entry
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(strict, forKey: .strict)
        try c.encode(allow.map(\.description), forKey: .allow)
    }
}

extension CheckSettings: SettingsObject {
    typealias Field = CodingKeys
    static let place = "\"checks\""
}

/// One entry of hot.json's `checks.allow`: a file, relative to the modules
/// folder (`hello/hello.swift`) or, for an include folder's file, to the
/// project (`shared/log.swift`); alone it allows the whole file, with
/// `:LINE` one line, with `:NAME` the declaration of that name and all it
/// holds, a name staying right as lines move.
public struct AllowEntry: Sendable, Equatable, CustomStringConvertible {
    /// What part of the file.
    public enum Scope: Sendable, Equatable {
        case file
        case line(Int)
        case name(String)
    }

    /// The file.
    public let path: String
    public let scope: Scope

    /// The shapes an entry may have, for the refusal.
    static let shapes = "MODULE/FILE.swift, MODULE/FILE.swift:LINE or MODULE/FILE.swift:NAME"

    /// Reads `hello/hello.swift`, `hello/hello.swift:12` or
    /// `hello/hello.swift:hits`; nil for any other text: an absolute path, a
    /// `..`, a file not ending in `.swift`, a line that is not a number above
    /// 0, a name that is not an identifier.
    public init?(_ text: String) {
        var path = Substring(text)
        var scope = Scope.file
        if let colon = text.lastIndex(of: ":") {
            let suffix = text[text.index(after: colon)...]
            path = text[..<colon]
            if let first = suffix.first, first.isASCII, first.isNumber {
                guard let line = Int(suffix), line > 0 else { return nil }
                scope = .line(line)
            } else {
                guard let first = suffix.first, first == "_" || first.isLetter,
                    suffix.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber })
                else { return nil }
                scope = .name(String(suffix))
            }
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasSuffix(".swift"), !path.hasPrefix("/"), parts.count >= 2,
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { return nil }
        self.path = String(path)
        self.scope = scope
    }

    public var description: String {
        switch scope {
        case .file: path
        case .line(let line): "\(path):\(line)"
        case .name(let name): "\(path):\(name)"
        }
    }
}
