/// A node's state folder: what it keeps across a restart. A project's node
/// keeps it under `.hot/` (`LocalNode.state`), but a node given `--state`
/// may keep it anywhere, so this is a layout over any folder. The one type
/// that spells a path inside it (docs/ARCHITECTURE.md, "State folder").
public struct StateFolder: Sendable, Equatable {
    /// The folder.
    public let root: String

    /// The state folder in `root`.
    public init(_ root: String) { self.root = root }

    /// `staged/`: the objects uploaded to the node.
    public var stagedDirectory: String { root + "/staged" }
    /// `staged/<file>`: one staged object (an `ArtifactName`'s file name).
    public func stagedPath(_ file: String) -> String { stagedDirectory + "/" + file }
    /// `permanent.json`: module → object path, booted after a restart.
    public var permanentPath: String { root + "/permanent.json" }
    /// `loading.json`: the load in progress, left behind only by a node that died in it.
    public var loadingPath: String { root + "/loading.json" }
    /// `refused.json`: the builds the node died loading, refused from then on.
    public var refusedPath: String { root + "/refused.json" }
}
