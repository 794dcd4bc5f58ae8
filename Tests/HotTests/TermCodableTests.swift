#if canImport(Foundation)
import Foundation
#endif
import Testing
@testable import Hot

// MARK: - Fixtures

private enum Color: String, Codable, Equatable { case red, green }
private enum Level: Int, Codable, Equatable { case low = 1, high = 9 }
private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rect(w: Int, h: Int)
    case point
    case labelled(String, Int)
}
private struct Inner: Codable, Equatable {
    var name: String
    var tags: [String]
}
private struct Everything: Codable, Equatable {
    var id: Int
    var small: UInt8
    var tiny: Int8
    var big: UInt64
    var ratio: Float
    var precise: Double
    var flag: Bool
    var inner: Inner
    var inners: [Inner]
    var maybe: String?
    var absent: Int?
    var color: Color
    var level: Level
    var shapes: [Shape]
    var dict: [String: Int]
    var intDict: [Int: String]
    var bytes: [UInt8]
    var noBytes: [UInt8]
    var ints: [Int]
    var pid: Pid
    var raw: Term
    var rawOpt: Term?
    var nested: [[Int]]
    var optBytes: [UInt8]?
}
private struct Args: Codable, Equatable { var args: [Inner] }
private struct Small: Codable, Equatable { var n: UInt8 }
private struct Ratio: Codable, Equatable { var r: Float }
private struct Pair: Codable, Equatable { var a: Int; var b: Int }
private struct Empty: Codable, Equatable {}
private struct Opt: Codable, Equatable { var x: Int? }

private class Base: Codable {
    var a: Int
    init(a: Int) { self.a = a }
}
private final class Derived: Base {
    var b: String
    init(a: Int, b: String) {
        self.b = b
        super.init(a: a)
    }
    enum Keys: String, CodingKey { case b }
    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        b = try container.decode(String.self, forKey: .b)
        try super.init(from: container.superDecoder())
    }
    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(b, forKey: .b)
        try super.encode(to: container.superEncoder())
    }
}

/// Hand-written coding through nested containers, to exercise the paths synthesis does not.
private struct Manual: Codable, Equatable {
    var x: Int
    var ys: [Int]
    enum Keys: String, CodingKey { case outer, x, ys, extra }
    init(x: Int, ys: [Int]) { self.x = x; self.ys = ys }
    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Keys.self)
        var outer = top.nestedContainer(keyedBy: Keys.self, forKey: .outer)
        try outer.encode(x, forKey: .x)
        var list = outer.nestedUnkeyedContainer(forKey: .ys)
        for y in ys { try list.encode(y) }
        var extra = top.nestedUnkeyedContainer(forKey: .extra)
        var inList = extra.nestedContainer(keyedBy: Keys.self)
        try inList.encode(x, forKey: .x)
        var deeper = extra.nestedUnkeyedContainer()
        try deeper.encodeNil()
        try extra.encode(true)
        _ = extra.superEncoder()  // never written: becomes an empty map
    }
    init(from decoder: any Decoder) throws {
        let top = try decoder.container(keyedBy: Keys.self)
        let outer = try top.nestedContainer(keyedBy: Keys.self, forKey: .outer)
        x = try outer.decode(Int.self, forKey: .x)
        var list = try outer.nestedUnkeyedContainer(forKey: .ys)
        var ys: [Int] = []
        while !list.isAtEnd { ys.append(try list.decode(Int.self)) }
        self.ys = ys
        var extra = try top.nestedUnkeyedContainer(forKey: .extra)
        #expect(extra.count == 4)
        _ = try extra.nestedContainer(keyedBy: Keys.self)
        var deeper = try extra.nestedUnkeyedContainer()
        #expect(try deeper.decodeNil())
        #expect(try extra.decodeNil() == false)  // a non-null is left in place
        #expect(try extra.decode(Bool.self))
        _ = try extra.superDecoder()
        #expect(extra.isAtEnd)
    }
}

/// Throws the stdlib's own errors, which the coders must translate into their closed enums.
private struct Thrower: Codable {
    let which: Int
    init(which: Int) { self.which = which }
    func encode(to encoder: any Encoder) throws {
        throw EncodingError.invalidValue(which, .init(codingPath: encoder.codingPath, debugDescription: "no"))
    }
    init(from decoder: any Decoder) throws {
        let context = DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "custom")
        switch try decoder.singleValueContainer().decode(Int.self) {
        case 0: throw DecodingError.valueNotFound(String.self, context)
        case 1: throw DecodingError.keyNotFound(TermKey(stringValue: "k"), context)
        case 2: throw DecodingError.typeMismatch(String.self, context)
        default: throw DecodingError.dataCorrupted(context)
        }
    }
}

private let everything = Everything(
    id: -5, small: 200, tiny: -128, big: UInt64(Int.max), ratio: 1.5, precise: -0.25, flag: true,
    inner: Inner(name: "x", tags: ["a"]), inners: [Inner(name: "y", tags: [])], maybe: "m", absent: nil,
    color: .green, level: .high, shapes: [.circle(radius: 2), .rect(w: 1, h: 2), .point, .labelled("q", 3)],
    dict: ["a": 1, "b": 2], intDict: [1: "one"], bytes: [0, 255, 7], noBytes: [], ints: [], pid: Pid(42),
    raw: ["k": [1, "s", nil, .bytes([1]), .pid(Pid(1)), 2.5, false]], rawOpt: .pid(Pid(3)),
    nested: [[1], [], [2, 3]], optBytes: [9])

// MARK: - Round trips

@Test func roundTripsEverything() throws {
    let term = try Term(encoding: everything)
    #expect(try term.decode(as: Everything.self) == everything)
    #expect(try TermDecoder().decode(Everything.self, from: TermEncoder().encode(everything)) == everything)
}

@Test func encodesToTheDocumentedShapes() throws {
    let term = try Term(encoding: everything)
    #expect(term["id"] == .int(-5))
    #expect(term["ratio"] == .double(1.5))
    #expect(term["flag"] == .bool(true))
    #expect(term["inner"] == ["name": "x", "tags": ["a"]])
    #expect(term["maybe"] == "m")
    #expect(term["absent"] == nil)  // synthesized encodeIfPresent leaves nil out
    #expect(term["color"] == "green")
    #expect(term["level"] == 9)
    #expect(term["shapes"] == [["circle": ["radius": 2.0]], ["rect": ["w": 1, "h": 2]], ["point": [:]],
        ["labelled": ["_0": "q", "_1": 3]]])
    #expect(term["dict"] == ["a": 1, "b": 2])
    #expect(term["intDict"] == ["1": "one"])
    #expect(term["bytes"] == .bytes([0, 255, 7]))
    #expect(term["noBytes"] == .bytes([]))
    #expect(term["ints"] == .list([]))  // an empty [Int] must not turn into bytes
    #expect(term["pid"] == .pid(Pid(42)))
    #expect(term["raw"] == everything.raw)
    #expect(term["rawOpt"] == .pid(Pid(3)))
    #expect(term["optBytes"] == .bytes([9]))
}

@Test func encodesNilAndTopLevelValues() throws {
    #expect(try Term(encoding: Int?.none) == .null)
    #expect(try Term(encoding: [Int?.none, 1]) == [nil, 1])
    #expect(try Term(encoding: "s") == "s")
    #expect(try Term(encoding: Term.map(["a": .bytes([1])])) == .map(["a": .bytes([1])]))
    #expect(try Term(encoding: Empty()) == .map([:]))
    #expect(try Term(encoding: Int128(-3)) == .int(-3))
    #expect(try Term(encoding: UInt128(3)) == .int(3))
    guard case .double(let nan) = try Term(encoding: Double.nan) else {
        Issue.record("NaN did not encode as a double")
        return
    }
    #expect(nan.isNaN)
}

@Test func decodesLeniently() throws {
    #expect(try Term.int(3).decode(as: Double.self) == 3)
    #expect(try Term.int(3).decode(as: Float.self) == 3)
    #expect(try Term.list([1, 2]).decode(as: [UInt8].self) == [1, 2])
    #expect(try Term.bytes([1, 2]).decode(as: [Int].self) == [1, 2])
    #expect(try Term.string("<0.9.0>").decode(as: Pid.self) == Pid(9))
    #expect(try Term.map(["x": nil]).decode(as: Opt.self) == Opt(x: nil))
    #expect(try Term.map([:]).decode(as: Opt.self) == Opt(x: nil))
    #expect(try Term.map([:]).decode(as: Empty.self) == Empty())
    #expect(try Term.double(.infinity).decode(as: Float.self) == .infinity)
    #expect(try Term.int(-1).decode(as: Int128.self) == -1)
    #expect(try Term.list([nil, 1]).decode(as: [Int?].self) == [nil, 1])
}

@Test func superEncoderAndNestedContainers() throws {
    let term = try Term(encoding: Derived(a: 7, b: "bee"))
    #expect(term == ["b": "bee", "super": ["a": 7]])
    let back = try term.decode(as: Derived.self)
    #expect(back.a == 7 && back.b == "bee")

    let manual = Manual(x: 4, ys: [1, 2])
    let manualTerm = try Term(encoding: manual)
    #expect(manualTerm == ["outer": ["x": 4, "ys": [1, 2]], "extra": [["x": 4], [nil], true, [:]]])
    #expect(try manualTerm.decode(as: Manual.self) == manual)
}

#if canImport(Foundation)
@Test func termAndPidUseStructuralFormsWithOtherCoders() throws {
    struct Holder: Codable { var raw: Term; var pid: Pid }
    let holder = Holder(raw: ["a": [1, 2.5, "s", true, nil, .bytes([1, 2]), .pid(Pid(4))]], pid: Pid(7))
    let data = try JSONEncoder().encode(holder)
    let back = try JSONDecoder().decode(Holder.self, from: data)
    // Bytes and pids have no JSON form, so they come back as a list of ints and a string.
    #expect(back.raw == ["a": [1, 2.5, "s", true, nil, [1, 2], "<0.4.0>"]])
    #expect(back.pid == Pid(7))
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(Pid.self, from: Data("\"zz\"".utf8)) }
}
#endif

// MARK: - Encoding errors

@Test func encodingRejectsIntegersBeyondInt() throws {
    #expect(throws: TermEncodingError.outOfRange(value: "\(UInt64.max)", type: "UInt64", path: "")) {
        try Term(encoding: UInt64.max)
    }
    #expect(throws: TermEncodingError.outOfRange(value: "\(UInt.max)", type: "UInt", path: "n[1]")) {
        try Term(encoding: ["n": [0, UInt.max]])
    }
    #expect(throws: TermEncodingError.outOfRange(value: "\(Int128.max)", type: "Int128", path: "")) {
        try Term(encoding: Int128.max)
    }
    let error = TermEncodingError.outOfRange(value: "18446744073709551615", type: "UInt64", path: "a.b")
    #expect(error.description == "a.b: UInt64 18446744073709551615 does not fit a term int (64-bit signed)")
    #expect(error.path == "a.b")
}

@Test func encodingTranslatesEncodingError() throws {
    #expect(throws: TermEncodingError.invalidValue("no", path: "xs[0]")) {
        try Term(encoding: ["xs": [Thrower(which: 0)]])
    }
    #expect(TermEncodingError.invalidValue("no", path: "").description == "top level: invalid value: no")
}

// MARK: - Decoding errors

@Test func typeMismatchNamesThePath() throws {
    let term: Term = ["args": [["name": 1, "tags": []]]]
    let expected = TermDecodingError.typeMismatch(expected: "string", found: "int", path: "args[0].name")
    #expect(throws: expected) { try term.decode(as: Args.self) }
    #expect(expected.description == "args[0].name: expected string, found int")
    #expect(throws: TermDecodingError.typeMismatch(expected: "map", found: "list", path: "")) {
        try Term.list([]).decode(as: Args.self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "list", found: "string", path: "args")) {
        try Term.map(["args": "x"]).decode(as: Args.self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "int", found: "null", path: "")) {
        try Term.null.decode(as: Int.self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "int", found: "double", path: "")) {
        try Term.double(1).decode(as: Int.self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "bool", found: "int", path: "[0]")) {
        try Term.list([1]).decode(as: [Bool].self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "double", found: "string", path: "r")) {
        try Term.map(["r": "1"]).decode(as: Ratio.self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "pid", found: "int", path: "")) {
        try Term.int(1).decode(as: Pid.self)
    }
    #expect(throws: TermDecodingError.typeMismatch(expected: "string", found: "bytes", path: "")) {
        try Term.bytes([]).decode(as: String.self)
    }
}

@Test func missingKeyNamesTheMapAndKey() throws {
    let expected = TermDecodingError.missingKey("name", path: "args[0]")
    #expect(throws: expected) { try Term.map(["args": [["tags": []]]]).decode(as: Args.self) }
    #expect(expected.description == "args[0].name: missing required key \"name\"")
    #expect(expected.path == "args[0]")
    #expect(throws: TermDecodingError.missingKey("b", path: "")) { try Term.map(["a": 1]).decode(as: Pair.self) }
    #expect(TermDecodingError.missingKey("b", path: "").description == "b: missing required key \"b\"")
}

@Test func outOfRangeNumbers() throws {
    #expect(throws: TermDecodingError.outOfRange(value: "300", type: "UInt8", path: "n")) {
        try Term.map(["n": 300]).decode(as: Small.self)
    }
    #expect(throws: TermDecodingError.outOfRange(value: "-1", type: "UInt64", path: "")) {
        try Term.int(-1).decode(as: UInt64.self)
    }
    #expect(throws: TermDecodingError.outOfRange(value: "256", type: "UInt8", path: "a[1]")) {
        try Term.map(["a": [1, 256]]).decode(as: [String: [UInt8]].self)
    }
    #expect(throws: TermDecodingError.outOfRange(value: "\(1e300)", type: "Float", path: "r")) {
        try Term.map(["r": 1e300]).decode(as: Ratio.self)
    }
    #expect(TermDecodingError.outOfRange(value: "300", type: "UInt8", path: "n").description
        == "n: 300 is out of range for UInt8")
}

@Test func endOfListNamesTheMissingIndex() throws {
    struct Triple: Decodable {
        init(from decoder: any Decoder) throws {
            var list = try decoder.unkeyedContainer()
            for _ in 0..<3 { _ = try list.decode(Int.self) }
        }
    }
    let expected = TermDecodingError.endOfList(count: 2, path: "t[2]")
    #expect(throws: expected) { try Term.map(["t": [1, 2]]).decode(as: [String: Triple].self) }
    #expect(expected.description == "t[2]: list ended after 2 elements")
    #expect(TermDecodingError.endOfList(count: 1, path: "").description == "top level: list ended after 1 element")
}

@Test func dataCorruptedFromStdlibConformances() throws {
    #expect(throws: TermDecodingError.dataCorrupted("Cannot initialize Color from invalid String value blue",
        path: "")) {
        try Term.string("blue").decode(as: Color.self)
    }
    #expect(throws: TermDecodingError.dataCorrupted("Invalid number of keys found, expected one.", path: "[0]")) {
        try Term.list([["circle": ["radius": 1], "point": [:]]]).decode(as: [Shape].self)
    }
    #expect(throws: TermDecodingError.dataCorrupted("not a pid: \"x\"", path: "p")) {
        try Term.map(["p": "x"]).decode(as: [String: Pid].self)
    }
    #expect(TermDecodingError.dataCorrupted("bad", path: "a[0]").description == "a[0]: bad")
}

@Test func decodingTranslatesDecodingError() throws {
    #expect(throws: TermDecodingError.typeMismatch(expected: "String", found: "null", path: "x")) {
        try Term.map(["x": 0]).decode(as: [String: Thrower].self)
    }
    #expect(throws: TermDecodingError.missingKey("k", path: "x")) {
        try Term.map(["x": 1]).decode(as: [String: Thrower].self)
    }
    #expect(throws: TermDecodingError.dataCorrupted("custom", path: "[0]")) {
        try Term.list([2]).decode(as: [Thrower].self)
    }
    #expect(throws: TermDecodingError.dataCorrupted("custom", path: "")) { try Term.int(3).decode(as: Thrower.self) }
}

@Test func pathRendering() {
    #expect(renderPath([]) == "")
    #expect(renderPath([TermKey(stringValue: "args"), TermKey(intValue: 0), TermKey(stringValue: "name")])
        == "args[0].name")
    #expect(renderPath([TermKey(intValue: 2), TermKey(intValue: 3)]) == "[2][3]")
}

/// Exports of one argument: the body over the argument alone and the body
/// over an argument array answer alike, and refuse a bad argument alike.
@Test func oneArgumentExportsHaveBothBodies() throws {
    struct Point: Codable, Equatable { let x: Int }
    let fast = Export.function("inc") { (x: Int) in x + 1 }
    let general = Export.function("move") { (p: Point) in Point(x: p.x + 1) }
    let raw = Export(name: "raw", arity: 1) { args in args[0] }
    #expect(try fast.unary?(.int(41)) == .int(42))
    #expect(try fast.body([.int(41)]) == .int(42))
    #expect(try general.unary?(["x": 1]) == ["x": 2])
    #expect(try general.body([["x": 1]]) == ["x": 2])
    #expect(raw.unary == nil, "a raw export has only its array body")
    for export in [fast, general] {
        for bad: Term in ["text", nil, [1, 2]] {
            #expect(throws: CallError.self) { try export.unary?(bad) }
            do {
                _ = try export.unary?(bad)
            } catch let error as CallError {
                guard case .badArgument(_, let index, _) = error else { Issue.record("\(error)"); continue }
                #expect(index == 0)
            }
        }
    }
}
