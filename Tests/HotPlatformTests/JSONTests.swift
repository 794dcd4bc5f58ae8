import Hot
import Testing

@testable import HotPlatform

/// Every case of Term, including the awkward ones: extreme ints, escapes, tag look-alikes.
let everyTermCase: Term = [
    "null": nil, "true": true, "false": false,
    "int": -42, "max": .int(.max), "min": .int(.min),
    "double": 1.5, "tiny": 1e-5, "whole": 2.0, "negzero": -0.0,
    "string": "héllo \"q\" \\ / \n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} 😀 \u{2028}",
    "bytes": .bytes([0, 1, 2, 253, 254, 255]), "noBytes": .bytes([]),
    "list": [1, [2, [3, []]], [:], "x"],
    "pid": .pid(Pid(7)), "bigPid": .pid(Pid(.max)),
    "lookAlike": ["$bytes": "AAAA"], "lookAlike2": ["$$pid": 3], "lookAlike3": ["$bytes": .bytes([1])],
    "dollar": ["$x": 1], "emptyKey": ["": 1], "twoKeys": ["$bytes": "AAAA", "b": 1],
]

private func parse(_ text: String) -> Term? { try? JSON.parse(text) }

private func parseError(_ text: String) -> JSONError? {
    do {
        _ = try JSON.parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct JSONTests {
    @Test(arguments: [false, true]) func everyCaseRoundTrips(pretty: Bool) throws {
        #expect(try JSON.parse(JSON.render(everyTermCase, pretty: pretty)) == everyTermCase)
    }

    @Test func scalarsRender() {
        #expect(JSON.render(nil) == "null")
        #expect(JSON.render(true) == "true")
        #expect(JSON.render(-7) == "-7")
        #expect(JSON.render(.int(.min)) == "-9223372036854775808")
        #expect(JSON.render("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
        #expect(JSON.render(.bytes([0, 1])) == #"{"$bytes":"AAE="}"#)
        #expect(JSON.render(.pid(Pid(7))) == #"{"$pid":"<0.7.0>"}"#)
    }

    @Test func doublesStayDoubles() throws {
        for d in [1.0, 0.1, 1e-5, 1e16, .leastNonzeroMagnitude, 1e300, .greatestFiniteMagnitude, -123456789.125, 2.0.squareRoot()] {
            let text = JSON.render(.double(d))
            #expect(try JSON.parse(text) == .double(d), "\(d) rendered as \(text)")
        }
        #expect(JSON.render(1.0) == "1.0")
        #expect(JSON.render(.double(.nan)) == "null")
        #expect(JSON.render(.double(-.infinity)) == "null")
    }

    @Test func keysAreSortedAndPrettyIsIndented() {
        #expect(JSON.render(["b": 1, "a": [], "c": [:]]) == #"{"a":[],"b":1,"c":{}}"#)
        let pretty = JSON.render(["b": [:], "a": [1, 2]], pretty: true)
        #expect(pretty == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
        #expect(JSON.render([], pretty: true) == "[]")
    }

    @Test func numbers() {
        #expect(parse("0") == 0)
        #expect(parse("-0") == 0)
        #expect(parse("9223372036854775807") == .int(.max))
        #expect(parse("-9223372036854775808") == .int(.min))
        #expect(parse("9223372036854775808") == .double(9223372036854775808))
        #expect(parse("1.0") == .double(1))
        #expect(parse("1E2") == .double(100))
        #expect(parse("-2.5e-3") == .double(-0.0025))
        #expect(parse("1e-400") == .double(0))
    }

    @Test func stringEscapes() {
        #expect(parse(#""\"\\\/\b\f\n\r\t""#) == "\"\\/\u{8}\u{c}\n\r\t")
        #expect(parse(#""\u0041\u00e9\u20AC""#) == "Aé€")
        #expect(parse(#""\ud83d\ude00""#) == "😀")
        #expect(parse(#""\u0000""#) == "\u{0}")
        #expect(parse("\"é😀\"") == "é😀")
    }

    @Test func whitespaceAndDuplicates() {
        #expect(parse(" \t\r\n[ 1 , { \"a\" : null } ]\n ") == [1, ["a": nil]])
        #expect(parse(#"{"a":1,"a":2}"#) == ["a": 2])
    }

    @Test func taggedForms() {
        #expect(parse(#"{"$bytes":""}"#) == .bytes([]))
        #expect(parse(#"{"$bytes":"AAE="}"#) == .bytes([0, 1]))
        #expect(parse(#"{"$bytes":"AAEC"}"#) == .bytes([0, 1, 2]))
        #expect(parse(#"{"$pid":"<0.12.0>"}"#) == .pid(Pid(12)))
        // Invalid payloads or extra keys leave an ordinary map.
        #expect(parse(#"{"$bytes":"AAF="}"#) == ["$bytes": "AAF="])
        #expect(parse(#"{"$bytes":"AA"}"#) == ["$bytes": "AA"])
        #expect(parse(#"{"$bytes":1}"#) == ["$bytes": 1])
        #expect(parse(#"{"$pid":"7"}"#) == ["$pid": "7"])
        #expect(parse(#"{"$pid":"<0.1.0>","x":1}"#) == ["$pid": "<0.1.0>", "x": 1])
        // A one-key map that looks like a tag is escaped with an extra '$'.
        #expect(JSON.render(["$bytes": "AAAA"]) == #"{"$$bytes":"AAAA"}"#)
        #expect(parse(#"{"$$bytes":"AAAA"}"#) == ["$bytes": "AAAA"])
        #expect(parse(#"{"$$$pid":1}"#) == ["$$pid": 1])
        #expect(JSON.render(["$x": 1]) == #"{"$x":1}"#)
        #expect(parse(#"{"$$x":1}"#) == ["$$x": 1])
    }

    @Test func base64MatchesRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        for bad in ["Zg", "Zg=", "Z===", "Zg=a", "Zh==", "Zm9=", "Zm9v!A==", "=AAA"] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }

    @Test func parseWord() throws {
        #expect(try JSON.parseWord("hello") == "hello")
        #expect(try JSON.parseWord("42") == 42)
        #expect(try JSON.parseWord("4.5") == 4.5)
        #expect(try JSON.parseWord("true") == true)
        #expect(try JSON.parseWord("null") == nil)
        #expect(try JSON.parseWord("\"42\"") == "42")
        #expect(try JSON.parseWord("[1,2]") == [1, 2])
        #expect(try JSON.parseWord("[1,") == "[1,")
        #expect(try JSON.parseWord("") == "")
        #expect(try JSON.parseWord("<0.3.0>") == "<0.3.0>")
    }

    @Test(arguments: [
        ("", 1, 1, "unexpected end of input, expected a value"),
        ("[1,]", 1, 4, "unexpected character, expected a value"),
        ("{\"a\" 1}", 1, 6, "expected ':' after object key"),
        ("{\n  \"a\": 1\n  \"b\": 2}", 3, 3, "expected ',' or '}' after object member"),
        ("[1 2]", 1, 4, "expected ',' or ']' after array element"),
        ("{,}", 1, 2, "expected '\"' to begin an object key"),
        ("01", 1, 1, "leading zeros are not allowed in numbers"),
        ("1.", 1, 3, "expected digit after '.' in number"),
        ("1e+", 1, 4, "expected digit in exponent"),
        ("-", 1, 2, "expected digit in number"),
        ("+1", 1, 1, "unexpected character, expected a value"),
        ("1e400", 1, 1, "number out of range"),
        ("\"abc", 1, 1, "unterminated string"),
        ("\"\\x\"", 1, 2, "invalid escape sequence"),
        ("\"\\u12g4\"", 1, 2, "invalid \\u escape, expected 4 hex digits"),
        ("\"\\ud800\"", 1, 2, "unpaired surrogate in \\u escape"),
        ("\"\\ud800\\u0041\"", 1, 2, "unpaired surrogate in \\u escape"),
        ("\"\\udc00\"", 1, 2, "unpaired surrogate in \\u escape"),
        ("\"a\tb\"", 1, 3, "unescaped control character in string"),
        ("tru", 1, 1, "invalid literal, expected 'true'"),
        ("nulL", 1, 1, "invalid literal, expected 'null'"),
        ("[1] x", 1, 5, "unexpected trailing characters after JSON value"),
        ("\"é\" 1", 1, 5, "unexpected trailing characters after JSON value"),
        ("[\n\"😀\",\n 2 3]", 3, 4, "expected ',' or ']' after array element"),
        ("\u{FEFF}1", 1, 1, "unexpected character, expected a value"),
        ("NaN", 1, 1, "unexpected character, expected a value"),
    ] as [(String, Int, Int, String)])
    func errorPositions(text: String, line: Int, column: Int, message: String) {
        let error = parseError(text)
        #expect(error == JSONError(line: line, column: column, message: message), "\(text.debugDescription)")
    }

    @Test func errorDescription() {
        let error = JSONError(line: 3, column: 14, message: "expected ',' or '}' after object member")
        #expect(error.description == "line 3, column 14: expected ',' or '}' after object member")
    }

    @Test func invalidUTF8BytesAreRejected() throws {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xC3],
        ]
        for bytes in cases {
            #expect(throws: JSONError.self) { try JSON.parse(bytes) }
        }
        #expect(try JSON.parse([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22] as [UInt8]) == "😀")
        #expect(try JSON.parse("[1]".utf8) == [1])
    }

    @Test func depthLimit() {
        let ok = String(repeating: "[", count: JSON.maxDepth) + String(repeating: "]", count: JSON.maxDepth)
        #expect(throws: Never.self) { try JSON.parse(ok) }
        let deep = String(repeating: "[", count: JSON.maxDepth + 1) + String(repeating: "]", count: JSON.maxDepth + 1)
        #expect(parseError(deep) == JSONError(line: 1, column: 257, message: "nesting deeper than 256 levels"))
        let deepObjects = String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 300)
        #expect(parseError(deepObjects)?.message == "nesting deeper than 256 levels")
    }

    @Test func everyPrefixOfADocumentFailsCleanly() {
        let text = Array(JSON.render(everyTermCase, pretty: true).utf8)
        for length in 0..<text.count {
            let prefix = Array(text[..<length])
            // Only a prefix ending after a complete number could parse; none here is a bare number.
            #expect(throws: JSONError.self) { try JSON.parse(prefix) }
        }
    }

    @Test func randomBytesAndMutationsNeverCrash() throws {
        var rng = WireTestRNG(seed: 0x15_0A)
        let seed = Array(JSON.render(everyTermCase).utf8)
        let alphabet = Array("{}[],:\"\\u0123456789eE.+-tfn \n".utf8) + [0xFF, 0xC3, 0xED]
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? 0 }
            } else {
                bytes = seed
                for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
            if let term = try? JSON.parse(bytes) {
                // Whatever parses must render to JSON that parses to the same term.
                #expect(try JSON.parse(JSON.render(term)) == term)
            }
        }
    }
}

/// SplitMix64: a seeded generator, so that a failing random document can be
/// reproduced from its seed.
struct WireTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
