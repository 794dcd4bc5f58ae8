/// A settings object of a JSON file (hot.json's `compact`, `checks`) read
/// strictly: a field its type does not take, a misspelt one that would
/// otherwise be ignored without a word, is refused in one line that names it.
public enum KnownFields {
    /// Throws `Refused(message(field))` for the first field, in sorted
    /// order, of the object `decoder` reads that is not one of `known`.
    public static func refuseUnknown(
        in decoder: any Decoder, known: [String], message: (String) -> String
    ) throws {
        let fields = try decoder.container(keyedBy: AnyField.self)
        if let unknown = fields.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw Refused(description: message(unknown))
        }
    }

    /// A field, or a value, a settings object does not take, said in one line.
    public struct Refused: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// Any key of a JSON object, to find the ones not known.
    private struct AnyField: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}
