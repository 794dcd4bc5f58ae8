import HotDeploy
import HotPlatform
import HotProject
import HotWire

/// A node that follows a fleet (`NodeConfiguration.fleet`; docs/FLEETS.md,
/// "An embedded node"): its `FleetFollower` runs on a thread of its own in
/// this process, from the node's start to its stop, and is a client of the
/// node's own control socket, as `hot fleet follow` is (docs/ARCHITECTURE.md,
/// "Fleets through etcd"): the code server stays the one owner of module
/// state, and a fleet load takes the path of a push deploy.
extension NodeHost {
    /// How long a node's stop waits for its follower to give its lease back:
    /// the lease's own time, after which etcd ends it anyway.
    static let followerLeaveTimeout: Duration = .seconds(10)

    /// Starts the follower of `fleet` for the node listening at `addresses`
    /// (its Unix socket if it has one), and makes the node's stop end it.
    func startFollower(_ fleet: FleetSettings, addresses: [NodeAddress]) throws(Failure) {
        if let problem = fleet.problem { throw .fleet(problem) }
        let local = addresses.first { if case .unix = $0 { true } else { false } }
        guard let address = local ?? addresses.first else {
            throw .fleet("a node that follows a fleet must listen somewhere: its follower is a client of its control socket")
        }
        let endpoints = fleet.etcd.compactMap(EtcdEndpoint.init(parsing:))
        let id = fleet.node ?? FleetFollower.defaultID(node: configuration.name)
        let target = RolloutTarget(name: configuration.name, address: address, cookieFile: configuration.cookieFile)
        let cookie = self.cookie
        let logger = node.logger
        let leaving = EtcdInterrupt()
        let left = Latch()
        do {
            try startThread {
                let store = FleetStore(etcd: EtcdClient(endpoints: endpoints), fleet: fleet.name, cookie: cookie)
                let follower = FleetFollower(store: store, name: id, target: target) { line in logger.info("\(line)") }
                logger.info("\(id) follows fleet \(fleet.name) at \(endpoints.map(\.description).joined(separator: ","))")
                follower.run(interrupt: leaving) { false }
                logger.info("\(id) left fleet \(fleet.name)")
                left.open()
            }
        } catch {
            throw .fleet("cannot start its follower: \(error)")
        }
        // `leaving` ends the follower's watch at once, and the step it may
        // be in fails on the node's closed socket; it then revokes its
        // lease, waited for, so that a host that exits once its node
        // stopped has left the fleet by then.
        node.atShutdown {
            leaving.interrupt()
            if !left.wait(until: .now + Self.followerLeaveTimeout) {
                logger.warning("\(id) did not leave fleet \(fleet.name) within \(Self.followerLeaveTimeout): its lease ends by itself")
            }
        }
    }
}
