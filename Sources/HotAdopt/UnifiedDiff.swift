/// A unified diff of one file (`diff -u`'s format, three lines of context),
/// from its old text (nil: a new file) to its new text.
public func unifiedDiff(path: String, old: String?, new: String) -> String {
    let a = old.map(lines) ?? []
    let b = lines(new)
    var text = "--- \(old == nil ? "/dev/null" : "a/" + path)\n+++ b/\(path)\n"
    let script = editScript(a, b)
    let context = 3
    var index = 0
    while index < script.count {
        guard let firstChange = script[index...].firstIndex(where: { $0.kind != .same }) else { break }
        // A hunk: from `context` lines before its first change to `context`
        // after its last, running on while two changes are close enough to share context.
        var end = firstChange
        var last = firstChange
        while end < script.count {
            if script[end].kind != .same { last = end }
            if end - last > 2 * context { break }
            end += 1
        }
        let start = max(index, firstChange - context)
        let stop = min(script.count, last + context + 1)
        let hunk = script[start..<stop]
        let oldCount = hunk.filter { $0.kind != .added }.count
        let newCount = hunk.filter { $0.kind != .removed }.count
        let oldStart = hunk.first.map { $0.oldLine } ?? 0
        let newStart = hunk.first.map { $0.newLine } ?? 0
        text += "@@ -\(oldCount == 0 ? oldStart : oldStart + 1),\(oldCount) +\(newCount == 0 ? newStart : newStart + 1),\(newCount) @@\n"
        for step in hunk {
            switch step.kind {
            case .same: text += " " + a[step.oldLine] + "\n"
            case .removed: text += "-" + a[step.oldLine] + "\n"
            case .added: text += "+" + b[step.newLine] + "\n"
            }
        }
        index = stop
    }
    return text
}

private func lines(_ text: String) -> [String] {
    var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if result.last == "" { result.removeLast() }
    return result
}

private struct Step {
    enum Kind { case same, removed, added }
    let kind: Kind
    /// The line of the old text it is at (for `.added`: the one it comes before).
    let oldLine: Int
    let newLine: Int
}

/// The steps from `a` to `b` that keep a longest common subsequence of
/// lines. Quadratic, which the files `hot adopt` edits (a manifest, an
/// app's entry) keep small; past a bound it replaces the file whole.
private func editScript(_ a: [String], _ b: [String]) -> [Step] {
    let n = a.count
    let m = b.count
    guard n * m <= 4_000_000 else {
        return a.indices.map { Step(kind: .removed, oldLine: $0, newLine: 0) } + b.indices.map { Step(kind: .added, oldLine: n, newLine: $0) }
    }
    // common[i][j]: the longest common subsequence of a[i...] and b[j...].
    var common = [[Int32]](repeating: [Int32](repeating: 0, count: m + 1), count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
            common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
        }
    }
    var steps: [Step] = []
    var i = 0
    var j = 0
    while i < n || j < m {
        if i < n, j < m, a[i] == b[j] {
            steps.append(Step(kind: .same, oldLine: i, newLine: j))
            i += 1
            j += 1
        } else if i < n, j == m || common[i + 1][j] >= common[i][j + 1] {
            steps.append(Step(kind: .removed, oldLine: i, newLine: j))
            i += 1
        } else {
            steps.append(Step(kind: .added, oldLine: i, newLine: j))
            j += 1
        }
    }
    return steps
}
