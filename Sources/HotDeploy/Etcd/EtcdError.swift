/// Why a request to etcd did not succeed.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A word of `--etcd` that is not `http://HOST:PORT`.
    case badEndpoint(String)
    /// No member answered before the request's deadline; why, per member.
    case unreachable(endpoints: [String], reasons: [String])
    /// A member answered with an error (an HTTP status other than 200).
    case failed(status: Int, message: String)
    /// A member answered 200 with a document this client cannot read.
    case badReply(String)

    public var description: String {
        switch self {
        case .badEndpoint(let word):
            "invalid etcd endpoint '\(word)': use http://HOST:PORT, several separated by commas"
        case .unreachable(let endpoints, let reasons):
            "etcd unreachable at \(endpoints.joined(separator: ",")): \(reasons.joined(separator: "; "))"
        case .failed(let status, let message):
            "etcd refused the request (HTTP \(status)): \(message)"
        case .badReply(let why):
            "etcd answered something unexpected: \(why)"
        }
    }
}
