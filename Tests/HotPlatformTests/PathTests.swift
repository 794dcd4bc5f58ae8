import HotPlatform
import Testing

/// The path helpers every layer uses, read by bytes.
@Suite struct PathTests {
    @Test("the last component is what follows the last slash, or the whole path")
    func lastComponent() {
        #expect(lastPathComponent("/tmp/app/.hot/build/hello/hello.v3-0123456789ab.so") == "hello.v3-0123456789ab.so")
        #expect(lastPathComponent("hello.so") == "hello.so")
        #expect(lastPathComponent("/hello") == "hello")
        #expect(lastPathComponent("modules/hello/") == "")
        #expect(lastPathComponent("") == "")
        #expect(lastPathComponent("/") == "")
        // A slash is one byte in UTF-8 and never inside another character's bytes.
        #expect(lastPathComponent("/srv/ünïcode/ファイル.swift") == "ファイル.swift")
        #expect(lastPathComponent("/srv/e\u{301}/x") == "x")
    }
}
