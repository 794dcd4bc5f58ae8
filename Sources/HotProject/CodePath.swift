/// A folder of built versions, one folder per module: a project's
/// `.hot/build/`, which `hot build` writes, and what a node's `--code-path`
/// names and boots from. The one type that spells a path inside it
/// (docs/ARCHITECTURE.md, "State folder").
public struct CodePath: Sendable, Equatable {
    /// The folder holding one folder per module.
    public let directory: String

    /// The code path in `directory`.
    public init(_ directory: String) { self.directory = directory }

    /// The name of each module's link to the build of its present sources.
    public static let currentLinkName = "current"

    /// `<module>/`: every version of `module` built here.
    public func moduleFolder(_ module: String) -> String { directory + "/" + module }
    /// `<module>/<file>`: one built object (an `ArtifactName`'s file name).
    public func builtPath(module: String, file: String) -> String { moduleFolder(module) + "/" + file }
    /// `<module>/current`: the link to the build of the module's present
    /// sources, which `hot build` writes and a node boots.
    public func currentLink(module: String) -> String { moduleFolder(module) + "/" + Self.currentLinkName }
    /// `<module>/.<file>.tmp`: where an object is compiled before it is renamed into place.
    public func temporaryPath(module: String, file: String) -> String { moduleFolder(module) + "/." + file + ".tmp" }
    /// `<module>/.entry.v<N>.swift`: the entry file generated for version `version`.
    public func entryFile(module: String, version: Int) -> String { moduleFolder(module) + "/.entry.v\(version).swift" }
    /// `.driver-plans/`: the command lines derived from the driver (`DriverPlanCache`).
    public var driverPlansDirectory: String { directory + "/.driver-plans" }
}
