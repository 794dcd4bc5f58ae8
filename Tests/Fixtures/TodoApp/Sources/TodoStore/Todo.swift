import Hummingbird

/// One item of the list.
public struct Todo: Codable, Equatable, Sendable, ResponseEncodable {
    public var id: Int
    public var title: String
    public var completed: Bool

    public init(id: Int, title: String, completed: Bool) {
        self.id = id
        self.title = title
        self.completed = completed
    }
}

/// What a client sends to make one.
public struct NewTodo: Codable, Sendable {
    public var title: String

    public init(title: String) { self.title = title }
}

/// What a client sends to change one; a field left out stays as it is.
public struct TodoChange: Codable, Sendable {
    public var title: String?
    public var completed: Bool?

    public init(title: String? = nil, completed: Bool? = nil) {
        self.title = title
        self.completed = completed
    }
}
