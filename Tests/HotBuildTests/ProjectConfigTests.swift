import HotPlatform
import HotProject
import HotWire
import Testing
@testable import HotBuild
import HotCheck

/// `hot.json`, read from real files.
@Suite("Project configuration")
struct ProjectConfigTests {
    /// The reason `hot.json` holding `text` is refused with, or nil when it reads.
    private func refusal(_ text: String) throws -> String? {
        let dir = try Scratch()
        defer { dir.removeAll() }
        try dir.write("hot.json", text)
        do {
            _ = try Project.load(root: dir.path)
            return nil
        } catch {
            guard case .badConfig(let path, let reason) = error else {
                Issue.record("not badConfig: \(error)")
                return nil
            }
            #expect(path == dir.path + "/hot.json")
            #expect(!error.description.contains("\n"), "one line: \(error.description)")
            return reason
        }
    }

    @Test("compact's thresholds read as given, and either may be left out")
    func compactReads() throws {
        let dir = try Scratch()
        defer { dir.removeAll() }
        try dir.write("hot.json", #"{"name": "shop", "compact": {"afterLoads": 500, "afterRetainedBytes": 67108864}}"#)
        #expect(try Project.load(root: dir.path).config.compact == CompactionThreshold(loads: 500, retainedBytes: 67_108_864))
        try dir.write("hot.json", #"{"name": "shop", "compact": {"afterLoads": 1}}"#)
        #expect(try Project.load(root: dir.path).config.compact == CompactionThreshold(loads: 1))
        try dir.write("hot.json", #"{"name": "shop"}"#)
        #expect(try Project.load(root: dir.path).config.compact == nil, "no compact: the node never compacts by itself")
    }

    @Test("a compact threshold that is not a whole number above 0 is refused, naming the field", arguments: [
        (#"{"afterLoads": 0}"#, "compact.afterLoads"),
        (#"{"afterLoads": -3}"#, "compact.afterLoads"),
        (#"{"afterRetainedBytes": 0}"#, "compact.afterRetainedBytes"),
        (#"{"afterLoads": 10, "afterRetainedBytes": -1}"#, "compact.afterRetainedBytes"),
        (#"{"afterLoads": "many"}"#, "afterLoads"),
        (#"{"afterRetainedBytes": 1.5}"#, "afterRetainedBytes"),
    ])
    func compactRefused(compact: String, field: String) throws {
        let reason = try refusal(#"{"name": "shop", "compact": \#(compact)}"#)
        let named = try #require(reason, "\(compact) was accepted")
        #expect(named.contains(field), "\(named)")
    }

    @Test("a field compact does not take (a misspelt threshold would never trigger) is refused, naming it")
    func compactUnknownField() throws {
        let reason = try #require(try refusal(#"{"name": "shop", "compact": {"afterLoad": 100}}"#))
        #expect(reason.contains("\"afterLoad\""), "\(reason)")
        #expect(reason.contains("afterLoads") && reason.contains("afterRetainedBytes"), "says what it takes: \(reason)")
        #expect(try refusal(#"{"name": "shop", "compact": 100}"#) != nil, "compact is an object")
    }
}

/// hot.json's `checks`, read from real files, and what its allow entries cover.
@Suite("Build check settings")
struct CheckSettingsTests {
    private func load(_ checks: String) throws -> Result<CheckSettings?, ProjectError> {
        let dir = try Scratch()
        defer { dir.removeAll() }
        try dir.write("hot.json", #"{"name": "shop", "checks": \#(checks)}"#)
        do { return .success(try Project.load(root: dir.path).config.checks) } catch { return .failure(error) }
    }

    /// The one-line reason `checks` is refused with.
    private func refusal(_ checks: String) throws -> String {
        guard case .failure(.badConfig(_, let reason)) = try load(checks) else {
            Issue.record("\(checks) was accepted")
            return ""
        }
        #expect(!reason.contains("\n"), "one line: \(reason)")
        return reason
    }

    @Test("strict and the three shapes of an allow entry read as given; either field may be left out")
    func reads() throws {
        let read = try load(#"{"strict": true, "allow": ["hello/hello.swift:hits", "hello/clock.swift:12", "hello/legacy.swift", "shared/log.swift:_x1"]}"#)
        let settings = try #require(try read.get())
        #expect(settings.strict)
        #expect(settings.allow.map(\.scope) == [.name("hits"), .line(12), .file, .name("_x1")])
        #expect(settings.allow.map(\.path) == ["hello/hello.swift", "hello/clock.swift", "hello/legacy.swift", "shared/log.swift"])
        #expect(try load(#"{}"#).get() == CheckSettings())
        #expect(try load(#"{"allow": []}"#).get()?.strict == false)
    }

    @Test("an allow entry of another shape is refused, naming the field and the entry", arguments: [
        "hello", "hello.swift", "/abs/hello/hello.swift", "hello/../x.swift", "hello//x.swift", "hello/x.swift:",
        "hello/x.swift:0", "hello/x.swift:-3", "hello/x.swift:12a", "hello/x.swift:my-name", "hello/x.swift:1:2", "hello/x.txt",
    ])
    func entryRefused(entry: String) throws {
        let reason = try refusal(#"{"allow": ["hello/ok.swift", "\#(entry)"]}"#)
        #expect(reason.contains("checks.allow") && reason.contains("\"\(entry)\""), "\(reason)")
        #expect(reason.contains("MODULE/FILE.swift:LINE"), "says the shapes it takes: \(reason)")
    }

    @Test("a field checks does not take is refused, naming it; a strict that is not a bool is refused too")
    func unknownField() throws {
        let reason = try refusal(#"{"strcit": true}"#)
        #expect(reason.contains("\"strcit\"") && reason.contains("\"strict\"") && reason.contains("\"allow\""), "\(reason)")
        #expect(try refusal(#"{"strict": "yes"}"#).contains("strict"))
        #expect(try refusal(#"{"allow": "hello/hello.swift"}"#).contains("allow"))
    }

    @Test("an entry covers its file's findings: all of them, one line's, or a declaration's and what it holds")
    func covers() throws {
        let finding = Finding(
            file: "modules/hello/clock.swift", line: 12, column: 5, kind: .staticVar, message: "m", declarations: ["count", "Clock"])
        func allows(_ entry: String) -> Bool {
            CheckSettings(allow: [AllowEntry(entry)].compactMap { $0 }).allows(finding, modules: "modules")
        }
        #expect(allows("hello/clock.swift"))
        #expect(allows("hello/clock.swift:12"))
        #expect(allows("hello/clock.swift:count"))
        #expect(allows("hello/clock.swift:Clock"))
        #expect(allows("modules/hello/clock.swift"), "a project-relative path names the same file")
        #expect(!allows("hello/clock.swift:13"))
        #expect(!allows("hello/clock.swift:counter"))
        #expect(!allows("hello/hello.swift"))
        #expect(!allows("other/clock.swift"))
        let included = Finding(file: "shared/log.swift", line: 1, column: 1, kind: .globalVar, message: "m", declarations: ["level"])
        #expect(CheckSettings(allow: [AllowEntry("shared/log.swift:level")!]).allows(included, modules: "modules"))
    }
}
