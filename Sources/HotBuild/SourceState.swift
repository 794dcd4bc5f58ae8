import HotPlatform

/// What git says of the project's sources at one moment: HEAD, the files that
/// differ from it, and each file's blob id as it stands in the work tree.
final class SourceState {
    /// The repository holding the project.
    let repository: Repository
    /// HEAD's commit id, or nil before the first commit.
    let head: String?
    private var cachedChanged: [String]?
    /// The project's folder relative to the repository root, with a trailing
    /// `/`; empty when the project is the repository root.
    let projectPrefix: String
    private let root: String

    init(project: Project) throws(GitError) {
        repository = try Repository.discover(from: project.root)
        root = project.root
        head = try repository.headCommit()?.description
        // The project may sit in a subfolder of the repository: status paths are
        // relative to the repository, keys and modules to the project.
        let workdir = realPath(repository.workdir) ?? repository.workdir
        let projectRoot = realPath(project.root) ?? project.root
        projectPrefix = projectRoot == workdir ? "" : String(projectRoot.dropFirst(workdir.count + 1)) + "/"
    }

    /// Paths, relative to the project root, that differ from HEAD (untracked
    /// included). A walk of the whole work tree, so made only when asked:
    /// `hot changed --since` never needs it.
    func changed() throws(GitError) -> [String] {
        if let cachedChanged { return cachedChanged }
        let prefix = projectPrefix
        let paths = try repository.status(includeUntracked: true, under: prefix.isEmpty ? nil : String(prefix.dropLast()))
            .compactMap { entry in entry.path.hasPrefix(prefix) ? String(entry.path.dropFirst(prefix.count)) : nil }
        cachedChanged = paths
        return paths
    }

    /// The git blob id of a work-tree file (relative to the project root).
    func blobID(_ path: String) throws(GitError) -> String {
        try Repository.hashFile(at: root + "/" + path).description
    }

    /// Whether git ignores a file (relative to the project root).
    func isIgnored(_ path: String) throws(GitError) -> Bool {
        try repository.isIgnored(path: projectPrefix + path)
    }

    /// Whether any file under the given folders differs from HEAD.
    func isDirty(under folders: [String]) throws(GitError) -> Bool {
        try changed().contains { path in folders.contains { path.hasPrefix($0 + "/") } }
    }
}
