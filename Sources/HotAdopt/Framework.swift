/// The server framework of an app `hot adopt` makes a host of: what it looks
/// for in Package.swift, and what the app, its manifest and its module get
/// for it (docs/EMBEDDING.md, "Adopting an app").
public enum Framework: String, Sendable, CaseIterable {
    case hummingbird
    case vapor

    /// Its name in messages, and the trait of Hot's package that builds its adapter.
    public var name: String {
        switch self {
        case .hummingbird: "Hummingbird"
        case .vapor: "Vapor"
        }
    }

    /// SwiftPM's identity of its package (`.../hummingbird.git`, `.../vapor.git`).
    var identity: String { rawValue }

    /// Hot's products the app's executable target depends on.
    var hotProducts: [String] {
        switch self {
        case .hummingbird: ["HotNode", "HotLifecycle", "HotHummingbird"]
        case .vapor: ["HotNode", "HotVapor"]
        }
    }

    /// The product of the framework's package a module imports, as the module's target names it.
    var productDependency: String { #".product(name: "\#(name)", package: "\#(identity)")"# }
}
