import Foundation
import HotDeploy
import Testing

/// The etcd client against a real 3-member cluster on loopback.
@Suite("etcd client", .serialized)
struct EtcdClientTests {
    @Test("put, get, list, count and delete by prefix; a value past a chunk's size survives whole")
    func keyValues() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints)
        let big = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let revision = try etcd.put("/t/a", big)
        try etcd.put("/t/b", [0, 1, 255])
        try etcd.put("/u/c", Array("other".utf8))
        let got = try etcd.get("/t/a")
        #expect(got.value?.value == big)
        #expect(got.value?.modRevision == revision)
        #expect(try etcd.get("/t/missing").value == nil)
        let listed = try etcd.list(prefix: "/t/")
        #expect(listed.values.map(\.key) == ["/t/a", "/t/b"])
        #expect(listed.values.last?.value == [0, 1, 255])
        #expect(try etcd.count(prefix: "/t/") == 2)
        try etcd.delete(prefix: "/t/")
        #expect(try etcd.count(prefix: "/t/") == 0)
        #expect(try etcd.count(prefix: "/u/") == 1)
    }

    @Test("a transaction applies only while its key is at the revision read: two writers cannot both win")
    func compareAndSwap() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints)
        #expect(try etcd.transaction(if: [.modRevision("/k", equals: 0)], then: [.put("/k", [1])]))
        #expect(try !etcd.transaction(if: [.modRevision("/k", equals: 0)], then: [.put("/k", [2])]), "the key exists now")
        let read = try #require(try etcd.get("/k").value)
        #expect(read.value == [1])
        #expect(try etcd.transaction(if: [.modRevision("/k", equals: read.modRevision)], then: [.put("/k", [3]), .delete("/other")]))
        #expect(try !etcd.transaction(if: [.modRevision("/k", equals: read.modRevision)], then: [.put("/k", [4])]), "a stale revision")
        #expect(try etcd.get("/k").value?.value == [3])
    }

    @Test("a key under a lease lives while the lease is kept alive and goes with its revocation")
    func leases() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints)
        let lease = try etcd.grantLease(ttl: 5)
        try etcd.put("/n/one", [1], lease: lease)
        #expect(try etcd.get("/n/one").value?.lease == lease)
        #expect(try etcd.keepAlive(lease: lease) > 0)
        try etcd.revoke(lease: lease)
        #expect(try etcd.get("/n/one").value == nil)
        #expect(try etcd.keepAlive(lease: lease) == 0, "a revoked lease has no time left")
    }

    @Test("a watch answers a change made during it, and is quiet after its wait when nothing changes")
    func watch() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints)
        let start = try etcd.put("/w/x", [1])
        let quietStart = ContinuousClock.now
        #expect(try etcd.watch(prefix: "/w/", from: start + 1, wait: .milliseconds(400)) == .quiet)
        #expect(ContinuousClock.now - quietStart >= .milliseconds(400))
        #expect(ContinuousClock.now - quietStart < .seconds(3))
        // A change already made before the watch, from the revision asked: seen at once.
        let changed = try etcd.put("/w/y", [2])
        #expect(try etcd.watch(prefix: "/w/", from: start + 1, wait: .seconds(5)) == .changed(revision: changed))
        // A change made while the watch waits.
        let writer = Thread {
            usleep(300_000)
            _ = try? EtcdClient(endpoints: cluster.endpoints).put("/w/z", [3])
        }
        writer.start()
        let began = ContinuousClock.now
        guard case .changed(let revision) = try etcd.watch(prefix: "/w/", from: changed + 1, wait: .seconds(10)) else {
            Issue.record("the watch saw no change")
            return
        }
        #expect(revision > changed)
        #expect(ContinuousClock.now - began < .seconds(5))
        // Keys outside the prefix do not wake it.
        let outside = try etcd.put("/v/q", [4])
        #expect(try etcd.watch(prefix: "/w/", from: outside, wait: .milliseconds(300)) == .quiet)
    }

    @Test("an interrupt from another thread ends a watch under way at once, and every later watch and pause")
    func interruptedWatch() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints)
        let start = try etcd.put("/i/x", [1])
        let interrupt = EtcdInterrupt()
        let interrupter = Thread {
            usleep(300_000)
            interrupt.interrupt()
        }
        interrupter.start()
        let began = ContinuousClock.now
        #expect(try etcd.watch(prefix: "/i/", from: start + 1, wait: .seconds(20), interrupt: interrupt) == .quiet)
        #expect(ContinuousClock.now - began >= .milliseconds(300), "it waited until the interrupt")
        #expect(ContinuousClock.now - began < .seconds(5), "not its whole wait")
        let after = ContinuousClock.now
        #expect(try etcd.watch(prefix: "/i/", from: start + 1, wait: .seconds(20), interrupt: interrupt) == .quiet)
        interrupt.pause(for: .seconds(20))
        #expect(ContinuousClock.now - after < .seconds(2), "an interrupt given before a wait ends it too")
        // A change is still seen by a watch without one.
        let changed = try etcd.put("/i/y", [2])
        #expect(try etcd.watch(prefix: "/i/", from: start + 1, wait: .seconds(5)) == .changed(revision: changed))
    }

    @Test("one member down changes nothing; with none left, one line names every endpoint")
    func failover() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints, timeout: .seconds(3))
        try etcd.put("/f/before", [1])
        cluster.stop(member: 0)
        try etcd.put("/f/after", [2])
        #expect(try etcd.get("/f/before").value?.value == [1])
        #expect(try etcd.list(prefix: "/f/").values.count == 2)
        // A client whose first endpoint is the one down still answers, in well under its deadline.
        let began = ContinuousClock.now
        let fresh = EtcdClient(endpoints: cluster.endpoints, timeout: .seconds(3))
        #expect(try fresh.get("/f/after").value?.value == [2])
        #expect(ContinuousClock.now - began < .seconds(2))
        for index in 1..<3 { cluster.stop(member: index) }
        let down = EtcdClient(endpoints: cluster.endpoints, timeout: .seconds(2))
        let stopped = ContinuousClock.now
        do {
            _ = try down.get("/f/after")
            Issue.record("a cluster with no member up answered")
        } catch {
            let text = error.description
            #expect(text.hasPrefix("etcd unreachable at \(cluster.urls): "), "\(text)")
            #expect(!text.contains("\n"), "one line: \(text)")
        }
        #expect(ContinuousClock.now - stopped < .seconds(3), "the deadline holds")
    }

    @Test("endpoint lists parse http://HOST:PORT words and name the one that is not")
    func endpoints() {
        #expect((try? EtcdEndpoint.list("http://127.0.0.1:2379,localhost:2380").get())?.map(\.description)
            == ["http://127.0.0.1:2379", "http://localhost:2380"])
        guard case .failure(let error) = EtcdEndpoint.list("http://127.0.0.1:2379,https//x") else {
            Issue.record("a bad word passed")
            return
        }
        #expect(error.description.contains("'https//x'"))
    }

    @Test("a release signed with another fleet's cookie, or altered, is refused; a tampered artifact is refused by its digest")
    func signatures() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let etcd = EtcdClient(endpoints: cluster.endpoints)
        let cookie = Array("the fleet's cookie".utf8)
        let store = FleetStore(etcd: etcd, fleet: "web", cookie: cookie)
        let object = (0..<1_200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let sha = try store.putArtifact(object)
        #expect(try etcd.count(prefix: store.keys.artifact(sha)) == 3, "chunked within etcd's value limit")
        let artifact = FleetRelease.Artifact(module: "hello", version: 2, key: "k2", file: "hello.v2.so", sha256: sha, size: object.count)
        let release = FleetRelease(artifacts: [artifact], chunkSize: FleetStore.chunkSize, published: "now")
        try store.putRelease(release)
        #expect(try store.release(release.id) == release)
        #expect(try store.artifact(artifact) == object)

        let stranger = FleetStore(etcd: etcd, fleet: "web", cookie: Array("another cookie".utf8))
        #expect(throws: FleetFailure.self) { try stranger.release(release.id) }
        let otherFleet = FleetStore(etcd: etcd, fleet: "api", cookie: cookie)
        #expect(otherFleet.keys.release(release.id) != store.keys.release(release.id))

        // Altered in etcd: the text changed, the signature kept.
        let stored = try #require(try etcd.get(store.keys.release(release.id)).value)
        let altered = String(decoding: stored.value, as: UTF8.self).replacingOccurrences(of: "\\\"version\\\":2", with: "\\\"version\\\":3")
        #expect(altered != String(decoding: stored.value, as: UTF8.self))
        try etcd.put(store.keys.release(release.id), Array(altered.utf8))
        do {
            _ = try store.release(release.id)
            Issue.record("an altered release passed")
        } catch {
            #expect(error.description.contains("not signed with this fleet's cookie"), "\(error)")
        }

        var tampered = object
        tampered[10] ^= 1
        try etcd.put(store.keys.chunk(sha, 0), Array(tampered[0..<FleetStore.chunkSize]))
        do {
            _ = try store.artifact(artifact)
            Issue.record("a tampered artifact passed")
        } catch {
            #expect(error.description.contains("artifact of hello refused: sha256"), "\(error)")
        }
    }
}
