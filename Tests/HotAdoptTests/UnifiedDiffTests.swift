import Testing

@testable import HotAdopt

/// The diff `hot adopt` shows: `diff -u`'s format, three lines of context,
/// hunks apart when their changes are far apart.
@Suite struct UnifiedDiffTests {
    @Test func hunks() {
        let old = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...20).map { "line \($0)" }
        lines.insert("new after 2", at: 2)
        lines[15] = "changed 15"
        let new = lines.joined(separator: "\n") + "\n"
        #expect(
            unifiedDiff(path: "f.txt", old: old, new: new) == """
                --- a/f.txt
                +++ b/f.txt
                @@ -1,5 +1,6 @@
                 line 1
                 line 2
                +new after 2
                 line 3
                 line 4
                 line 5
                @@ -12,7 +13,7 @@
                 line 12
                 line 13
                 line 14
                -line 15
                +changed 15
                 line 16
                 line 17
                 line 18

                """)
    }

    @Test func newFile() {
        #expect(unifiedDiff(path: "hot.json", old: nil, new: "{\n}\n") == "--- /dev/null\n+++ b/hot.json\n@@ -0,0 +1,2 @@\n+{\n+}\n")
    }

    @Test func closeChangesShareAHunk() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n"
        let new = "a\nB\nc\nd\ne\nf\nG\nh\n"
        #expect(
            unifiedDiff(path: "x", old: old, new: new) == """
                --- a/x
                +++ b/x
                @@ -1,8 +1,8 @@
                 a
                -b
                +B
                 c
                 d
                 e
                 f
                -g
                +G
                 h

                """)
    }
}
