/// Why `hot adopt` refuses a package: each one line that names what it
/// looked for, and nothing written.
public enum AdoptError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file it must read is missing or unreadable.
    case missingFile(String)
    /// A file swift-syntax's parser finds errors in.
    case unparsable(file: String)
    /// Package.swift's first line is not `// swift-tools-version:X.Y`.
    case noToolsVersion
    /// No `Package(…)` call, or one without the array literal `argument`.
    case manifestShape(String)
    /// The package depends on neither Hummingbird nor Vapor.
    case noFramework
    /// No executable target, or more than one that could be the app.
    case executable(String)
    /// The module name `--module` gave is not a valid one, or is taken.
    case moduleName(String)
    /// The app's sources are not of a shape it edits: the reason.
    case appShape(String)
    /// A file that exists already and is not what it would write.
    case existing(path: String, reason: String)
    /// A file whose edit would not parse: a layout the edits do not know.
    case uneditable(file: String)
    /// Writing failed; whatever was written is gone again.
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path): "no \(path) (hot adopt works on a SwiftPM package folder holding a Hummingbird or Vapor app)"
        case .unparsable(let file): "\(file) does not parse; fix it (swift build says where) and run hot adopt again"
        case .noToolsVersion: "Package.swift does not begin with a `// swift-tools-version:X.Y` line"
        case .manifestShape(let what): "Package.swift: \(what)"
        case .noFramework:
            "Package.swift depends on neither Hummingbird nor Vapor (looked for .package(url: \".../hummingbird.git\" or \".../vapor.git\", ...)); hot adopt makes an app of either a host"
        case .executable(let what): "Package.swift: \(what)"
        case .moduleName(let what): what
        case .appShape(let what): what
        case .existing(let path, let reason): "\(path) \(reason)"
        case .uneditable(let file):
            "\(file) is laid out in a way hot adopt cannot edit (its edit does not parse); make the changes `hot help adopt` lists by hand"
        case .write(let path, let reason): "cannot write \(path): \(reason); nothing was changed"
        }
    }
}
