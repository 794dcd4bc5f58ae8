import Vapor

/// The names signed so far. The app makes one and owns it, so it outlives
/// every deploy; the handlers get it from the app on each request
/// (`node.handler("routes", "sign", with: guestbook)`), and a version whose
/// export takes something else is refused by `hot deploy`.
public actor Guestbook {
    private var names: [String] = []

    public init() {}

    /// Adds `name`; how many names the book holds now.
    public func sign(_ name: String) -> Int {
        names.append(name)
        return names.count
    }
}

/// What the greeting routes answer, as JSON.
public struct Greeting: Content {
    /// The text.
    public var message: String
    /// The release of the routes module that answered.
    public var release: Int

    public init(message: String, release: Int) {
        self.message = message
        self.release = release
    }
}
