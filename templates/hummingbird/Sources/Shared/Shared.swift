import Hummingbird

/// The request context of every route. A hot handler's type names it, so the
/// app and its modules must agree on it: it lives here, where both import it.
public typealias AppContext = BasicRequestContext

/// What the greeting routes answer, as JSON.
public struct Greeting: ResponseEncodable, Sendable {
    /// The text.
    public var message: String
    /// The release of the routes module that answered.
    public var release: Int

    public init(message: String, release: Int) {
        self.message = message
        self.release = release
    }
}
