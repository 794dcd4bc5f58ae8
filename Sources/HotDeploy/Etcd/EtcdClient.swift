import Hot
import HotPlatform
import HotWire
import Synchronization
import SystemPackage

/// A client of an etcd v3 cluster through its JSON gateway (`/v3/kv/range`,
/// `/v3/kv/put`, `/v3/kv/txn`, `/v3/lease/*`, `/v3/watch`), over HTTP/1.1.
///
/// Every request has a deadline, `timeout` from its start. It goes to the
/// member that answered last; a member that cannot be reached, or answers
/// that it has no leader, passes the request to the next one, so one member
/// of three down changes nothing. When none answers, the error names them all.
public final class EtcdClient: Sendable {
    /// The members, as given.
    public let endpoints: [EtcdEndpoint]
    /// How long one request may take, over every member it tries.
    public let timeout: Duration
    /// The member tried first: the last that answered.
    private let preferred = Atomic<Int>(0)

    public init(endpoints: [EtcdEndpoint], timeout: Duration = .seconds(5)) {
        precondition(!endpoints.isEmpty, "an etcd client needs an endpoint")
        self.endpoints = endpoints
        self.timeout = timeout
    }

    /// One key's value and revisions.
    public struct KeyValue: Sendable, Equatable {
        public let key: String
        public let value: [UInt8]
        public let createRevision: Int
        public let modRevision: Int
        /// The lease the key is attached to; 0 for none.
        public let lease: Int
    }

    /// A condition of a transaction.
    public enum Comparison: Sendable {
        /// The key's last change was at this revision (0: the key is absent).
        case modRevision(String, equals: Int)
    }

    /// A change in a transaction.
    public enum Change: Sendable {
        case put(String, [UInt8], lease: Int = 0)
        case delete(String)
        case deletePrefix(String)
    }

    // MARK: Key-value

    /// One key, and the store's revision when it was read.
    public func get(_ key: String) throws(EtcdError) -> (value: KeyValue?, revision: Int) {
        let reply = try call("/v3/kv/range", ["key": .string(Base64.encode(Array(key.utf8)))])
        return (try keyValues(reply).first, try revision(reply))
    }

    /// Every key under `prefix`, in key order, and the store's revision.
    public func list(prefix: String) throws(EtcdError) -> (values: [KeyValue], revision: Int) {
        let reply = try call("/v3/kv/range", [
            "key": .string(Base64.encode(Array(prefix.utf8))), "range_end": .string(Base64.encode(Self.rangeEnd(prefix))),
        ])
        return (try keyValues(reply), try revision(reply))
    }

    /// Whether any key under `prefix` exists (its count only).
    public func count(prefix: String) throws(EtcdError) -> Int {
        let reply = try call("/v3/kv/range", [
            "key": .string(Base64.encode(Array(prefix.utf8))), "range_end": .string(Base64.encode(Self.rangeEnd(prefix))),
            "count_only": .bool(true),
        ])
        return Self.integer(reply["count"]) ?? 0
    }

    /// Sets a key; returns the revision of the change.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int = 0) throws(EtcdError) -> Int {
        try revision(try call("/v3/kv/put", Self.putRequest(key, value, lease: lease)))
    }

    /// Deletes every key under `prefix`.
    public func delete(prefix: String) throws(EtcdError) {
        _ = try call("/v3/kv/deleterange", [
            "key": .string(Base64.encode(Array(prefix.utf8))), "range_end": .string(Base64.encode(Self.rangeEnd(prefix))),
        ])
    }

    /// Applies `then` if every comparison holds, else nothing; whether it did.
    public func transaction(if comparisons: [Comparison], then changes: [Change]) throws(EtcdError) -> Bool {
        let compare: [Term] = comparisons.map { comparison in
            switch comparison {
            case .modRevision(let key, let revision):
                ["key": .string(Base64.encode(Array(key.utf8))), "target": "MOD", "result": "EQUAL", "mod_revision": .string(String(revision))]
            }
        }
        let success: [Term] = changes.map { change in
            switch change {
            case .put(let key, let value, let lease): ["request_put": Self.putRequest(key, value, lease: lease)]
            case .delete(let key): ["request_delete_range": ["key": .string(Base64.encode(Array(key.utf8)))]]
            case .deletePrefix(let prefix):
                ["request_delete_range": [
                    "key": .string(Base64.encode(Array(prefix.utf8))), "range_end": .string(Base64.encode(Self.rangeEnd(prefix))),
                ]]
            }
        }
        let reply = try call("/v3/kv/txn", ["compare": .list(compare), "success": .list(success)])
        return reply["succeeded"]?.boolValue ?? false
    }

    // MARK: Leases

    /// A new lease of `ttl` seconds; its id.
    public func grantLease(ttl: Int) throws(EtcdError) -> Int {
        let reply = try call("/v3/lease/grant", ["TTL": .string(String(ttl))])
        guard let id = Self.integer(reply["ID"]), id != 0 else { throw .badReply("lease grant without an ID") }
        return id
    }

    /// Renews a lease; the seconds it has left, 0 when it has expired.
    public func keepAlive(lease: Int) throws(EtcdError) -> Int {
        // The gateway answers a keep-alive as a stream of one message.
        let reply = try call("/v3/lease/keepalive", ["ID": .string(String(lease))])
        return Self.integer((reply["result"] ?? reply)["TTL"]) ?? 0
    }

    /// Ends a lease now; its keys go with it.
    public func revoke(lease: Int) throws(EtcdError) {
        _ = try call("/v3/lease/revoke", ["ID": .string(String(lease))])
    }

    // MARK: Watch

    /// What a watch saw.
    public enum WatchOutcome: Sendable, Equatable {
        /// Keys under the prefix changed; the revision of the last change.
        case changed(revision: Int)
        /// Nothing changed during the wait.
        case quiet
        /// The revision asked for was compacted away: read everything again.
        case compacted
    }

    /// Waits up to `wait` for a change under `prefix` at or after revision
    /// `from` (`/v3/watch`, one stream per call, closed on return); quiet at
    /// once when `interrupt` is given.
    public func watch(prefix: String, from revision: Int, wait: Duration, interrupt: EtcdInterrupt? = nil) throws(EtcdError) -> WatchOutcome {
        let body = JSON.render(["create_request": [
            "key": .string(Base64.encode(Array(prefix.utf8))), "range_end": .string(Base64.encode(Self.rangeEnd(prefix))),
            "start_revision": .string(String(revision)),
        ]])
        return try onSomeMember { (endpoint, deadline) throws(EtcdError) -> WatchOutcome in
            let socket: Socket
            do throws(SystemError) {
                socket = try EtcdHTTP.connect(endpoint, by: deadline)
                try EtcdHTTP.send(socket, endpoint, "/v3/watch", body: body, by: deadline)
            } catch { throw .unreachable(endpoints: [endpoint.description], reasons: [error.description]) }
            interrupt?.watch(on: socket)
            defer {
                interrupt?.watch(on: nil)
                socket.close()
            }
            var reader = ReplyReader(socket: socket, deadline: ContinuousClock.now + max(wait, .milliseconds(1)) + timeout)
            let watchEnd = ContinuousClock.now + wait
            var pending: [UInt8] = []
            do throws(SystemError) {
                let head = try reader.head()
                guard head.status == 200 else { throw SystemError("watch answered HTTP \(head.status)", errno: .protocolError) }
                guard head.chunked else { throw SystemError("watch answered without a stream", errno: .protocolError) }
                var created = false
                while true {
                    // The gateway writes one message per line; a line may span chunks.
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(pending[..<newline])
                        pending.removeSubrange(...newline)
                        guard !line.allSatisfy({ $0 == 32 || $0 == 13 }) else { continue }
                        let message: Term
                        do { message = try JSON.parse(line) } catch { throw SystemError("watch message: \(error)", errno: .protocolError) }
                        let result = message["result"] ?? message
                        if let error = message["error"] { throw SystemError("watch: \(JSON.render(error))", errno: .protocolError) }
                        if (Self.integer(result["compact_revision"]) ?? 0) > 0 { return .compacted }
                        if result["canceled"]?.boolValue == true { return .compacted }
                        if result["created"]?.boolValue == true { created = true }
                        if let events = result["events"]?.listValue, !events.isEmpty {
                            let last = events.compactMap { Self.integer($0["kv"]?["mod_revision"]) }.max()
                            return .changed(revision: last ?? revision)
                        }
                    }
                    // Past the wait, a created watch has seen nothing: quiet.
                    if created && ContinuousClock.now >= watchEnd { return .quiet }
                    let left = created ? watchEnd.timeLeft : reader.deadline.timeLeft
                    guard let chunk = try reader.chunk(until: ContinuousClock.now + left) else {
                        throw SystemError("watch stream ended", errno: .connectionReset)
                    }
                    pending += chunk
                    guard pending.count <= EtcdHTTP.replyLimit else { throw SystemError("watch message too long", errno: .messageTooLong) }
                }
            } catch {
                if error.errno == .timedOut, ContinuousClock.now >= watchEnd { return .quiet }
                // Its socket shut down by the interrupt: nothing seen.
                if interrupt?.isInterrupted == true { return .quiet }
                throw .unreachable(endpoints: [endpoint.description], reasons: [error.description])
            }
        }
    }

    // MARK: Requests

    /// The key just past every key starting with `prefix`: etcd's range end.
    static func rangeEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }

    private static func putRequest(_ key: String, _ value: [UInt8], lease: Int) -> Term {
        var fields: [String: Term] = ["key": .string(Base64.encode(Array(key.utf8))), "value": .string(Base64.encode(value))]
        if lease != 0 { fields["lease"] = .string(String(lease)) }
        return .map(fields)
    }

    /// The gateway renders 64-bit integers as strings; either is read.
    static func integer(_ term: Term?) -> Int? {
        switch term {
        case .int(let n): n
        case .string(let text): Int(text)
        default: nil
        }
    }

    private func revision(_ reply: Term) throws(EtcdError) -> Int {
        guard let revision = Self.integer(reply["header"]?["revision"]) else { throw .badReply("no header revision") }
        return revision
    }

    private func keyValues(_ reply: Term) throws(EtcdError) -> [KeyValue] {
        try (reply["kvs"]?.listValue ?? []).map { (kv) throws(EtcdError) -> KeyValue in
            guard let key = kv["key"]?.stringValue.flatMap(Base64.decode) else { throw .badReply("a key that is not base64") }
            let value = kv["value"]?.stringValue.flatMap(Base64.decode) ?? []
            return KeyValue(
                key: String(decoding: key, as: UTF8.self), value: value,
                createRevision: Self.integer(kv["create_revision"]) ?? 0, modRevision: Self.integer(kv["mod_revision"]) ?? 0,
                lease: Self.integer(kv["lease"]) ?? 0)
        }
    }

    /// POSTs a JSON document to some member and parses its answer.
    private func call(_ path: String, _ request: Term) throws(EtcdError) -> Term {
        let body = JSON.render(request)
        return try onSomeMember { (endpoint, deadline) throws(EtcdError) -> Term in
            let reply: (status: Int, body: [UInt8])
            do throws(SystemError) { reply = try EtcdHTTP.post(endpoint, path, body: body, by: deadline) } catch {
                throw .unreachable(endpoints: [endpoint.description], reasons: [error.description])
            }
            let document = (try? JSON.parse(reply.body)) ?? .null
            guard reply.status == 200 else {
                let message = document["message"]?.stringValue ?? document["error"]?.stringValue
                    ?? String(decoding: reply.body.prefix(200), as: UTF8.self)
                // No leader (a member cut off from the others) or overloaded: another member may serve.
                if reply.status == 503 || reply.status == 504 {
                    throw .unreachable(endpoints: [endpoint.description], reasons: ["HTTP \(reply.status): \(message)"])
                }
                throw .failed(status: reply.status, message: message)
            }
            guard case .map = document else { throw .badReply("\(path) answered no JSON object") }
            return document
        }
    }

    /// Runs `attempt` on the preferred member, then each other in turn while
    /// they are unreachable, sharing the deadline among those left.
    private func onSomeMember<T>(
        _ attempt: (EtcdEndpoint, ContinuousClock.Instant) throws(EtcdError) -> T
    ) throws(EtcdError) -> T {
        let deadline = ContinuousClock.now + timeout
        let first = preferred.load(ordering: .relaxed)
        var reasons: [String] = []
        for step in 0..<endpoints.count {
            let index = (first + step) % endpoints.count
            let endpoint = endpoints[index]
            let membersLeft = endpoints.count - step
            let share = ContinuousClock.now + deadline.timeLeft / membersLeft
            do {
                let result = try attempt(endpoint, share)
                preferred.store(index, ordering: .relaxed)
                return result
            } catch .unreachable(_, let why) {
                reasons.append("\(endpoint): \(why.joined(separator: "; "))")
            }
        }
        throw .unreachable(endpoints: endpoints.map(\.description), reasons: reasons)
    }
}
