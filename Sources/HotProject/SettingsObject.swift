import HotPlatform

/// An object of hot.json, the file itself or one of its fields (`host`,
/// `compact`, `checks`): read strictly, so that a field it does not take, a
/// misspelt one that would otherwise be ignored without a word, is refused
/// in one line naming it and every field the object takes. The one place
/// hot.json's objects refuse, through `KnownFields`.
protocol SettingsObject {
    associatedtype Field: CodingKey & CaseIterable & RawRepresentable where Field.RawValue == String
    /// The object as a refusal names it: `hot.json`, `"compact"`.
    static var place: String { get }
}

extension SettingsObject {
    /// Throws `KnownFields.Refused` for the first field of the object
    /// `decoder` reads that is not one of `Field`.
    static func refuseUnknownFields(in decoder: any Decoder) throws {
        let known = Field.allCases.map(\.rawValue)
        try KnownFields.refuseUnknown(in: decoder, known: known) { unknown in
            "\(place) takes \(listed(known.map { "\"\($0)\"" })), not \"\(unknown)\""
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
private func listed(_ words: [String]) -> String {
    guard let last = words.last, words.count > 1 else { return words.first ?? "" }
    return words.dropLast().joined(separator: ", ") + " and " + last
}
