import Hot
import HotWire
import Testing

/// Each op's typed request carries the reply document that op is answered
/// with, and crosses the wire as the plain request did.
@Suite("Typed requests")
struct TypedRequestTests {
    /// The op a typed request sends, and the op its reply document answers.
    private static func pair<Reply>(_ typed: TypedRequest<Reply>) -> (sent: String, answered: String, request: Request) {
        (typed.request.op, Reply.request, typed.request)
    }

    @Test("every op's constructor pairs it with that op's reply document, and its request is the plain one")
    func eachOpHasItsReply() throws {
        let pairs: [(sent: String, answered: String, request: Request)] = [
            Self.pair(.ping), Self.pair(.status), Self.pair(.stop),
            Self.pair(.call(module: "m", function: "f", args: [.int(1)])),
            Self.pair(.stage(file: "m.v1-0123456789ab.so", size: 3, sha256: String(repeating: "0", count: 64))),
            Self.pair(.load(files: ["m.v1-0123456789ab.so"], purge: true, force: false)),
            Self.pair(.spawn(module: "m", function: "f", args: [], name: "n")),
            Self.pair(.send(to: "n", message: .string("hi"))),
            Self.pair(.purge(module: "m", soft: true)),
            Self.pair(.delete(module: "m")),
            Self.pair(.check(files: ["m.v1-0123456789ab.so"])),
            Self.pair(.makePermanent(modules: ["m"])),
            Self.pair(.rollback(module: "m")),
            Self.pair(.compact(purge: false)),
        ]
        #expect(Set(pairs.map(\.sent)).count == 14, "one constructor per op")
        for pair in pairs {
            #expect(pair.sent == pair.answered, "\(pair.sent) is paired with a \(pair.answered) reply")
            // The wire is the plain request's: it reads back as itself.
            #expect(try Request(payload: TermCodec.encode(pair.request.term)) == pair.request)
        }
        #expect(TypedRequest.load(files: ["a"], purge: true, force: true).request == .load(files: ["a"], purge: true, force: true))
    }
}
