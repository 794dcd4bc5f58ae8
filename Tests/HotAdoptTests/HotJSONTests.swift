#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject
import Testing

@testable import HotAdopt

/// hot.json as `hot adopt` treats it, read by the project's one reader from
/// real files: written when missing, kept when it names a host, refused with
/// what to do otherwise.
@Suite("hot adopt's hot.json")
struct HotJSONTests {
    /// `body` run on a temporary folder holding `text` as its hot.json
    /// (nil: none); the folder is removed at the end.
    private func inFolder<T>(holding text: String?, _ body: (String) throws -> T) throws -> T {
        var template = Array("/tmp/hot-adopt-json-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        let root = String(cString: made)
        defer { removeTree(root) }
        if let text { try writeFileAtomically(root + "/" + ProjectLayout.configFile, Array(text.utf8)) }
        return try body(root)
    }

    /// What `Scaffold.hotJSON` makes of a package whose hot.json is `text` (nil: none).
    private func adopting(_ text: String?) throws -> Result<String?, AdoptError> {
        try inFolder(holding: text) { root in
            do throws(AdoptError) {
                return .success(try Scaffold.hotJSON(root: root, name: "shop", product: "App"))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Why `hot adopt` refuses a package whose hot.json is `text`; nil (and
    /// an issue recorded) when it takes it.
    private func refusal(_ text: String) throws -> String? {
        let result = try adopting(text)
        guard case .failure(.existing(let path, let reason)) = result, path == "hot.json" else {
            Issue.record("\(text) was not refused as hot.json: \(result)")
            return nil
        }
        return reason
    }

    @Test("none yet: a new hot.json naming the app's product as its host, which the project's reader reads back")
    func missing() throws {
        let text = try #require(try adopting(nil).get())
        let read = try inFolder(holding: text) { try ProjectConfig.read(root: $0) }
        #expect(read == ProjectConfig(name: "shop", host: HostConfig(package: ".", product: "App")))
    }

    @Test("one that names a host is kept as it is")
    func hosted() throws {
        #expect(try adopting(#"{"name": "shop", "host": {"package": ".", "product": "App"}}"#).get() == nil)
    }

    @Test("one without a host is refused with the host to add, even where the word host appears or host is null", arguments: [
        #"{"name": "shop"}"#,
        #"{"name": "host"}"#,
        #"{"name": "shop", "host": null}"#,
    ])
    func hostless(text: String) throws {
        let reason = try #require(try refusal(text))
        #expect(reason.hasPrefix("exists without \"host\"; add \"host\": {\"package\": \".\", \"product\": \"App\"}"), "\(reason)")
    }

    @Test("one that does not read as hot.json is refused in one line, not written over", arguments: [
        #"{"name": "shop", "host": {"package": ".", "product": "App"}"#,
        #"{"name": "shop", "host": {"package": ".", "product": "App"}, "stikcy": []}"#,
        #"{"name": "shop", "host": "App"}"#,
    ])
    func unreadable(text: String) throws {
        let reason = try #require(try refusal(text))
        #expect(reason.hasPrefix("is refused: ") && reason.hasSuffix("fix it, then run hot adopt again"), "\(reason)")
        #expect(!reason.contains("\n"), "one line: \(reason)")
    }
}
