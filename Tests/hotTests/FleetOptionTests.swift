import Testing

@testable import hot

/// The fleet's options in the command table: where they are taken, what a
/// mistyped one is taken for, and what completion offers.
@Suite struct FleetOptionTests {
    private func command(_ name: String) throws -> Command {
        try #require(HotCLI.commands.first { $0.name == name })
    }

    @Test func deployStartAndFleetTakeTheEtcdOptions() throws {
        for name in ["deploy", "start", "fleet"] {
            let options = try command(name).options
            #expect(options.contains(.etcd) && options.contains(.fleet), "\(name)")
        }
        #expect(try command("deploy").options.contains(.resume))
        #expect(try command("fleet").argumentSlots == [ArgumentSlot(index: 0, onward: false, values: .fixed(["status", "follow"]))])
    }

    @Test func aMistypedFleetOptionNamesTheNearest() throws {
        let deploy = try command("deploy")
        #expect(throws: UsageError.unknownOption("--etdc", command: "deploy", nearest: "--etcd")) {
            _ = try parse(["--etdc", "http://127.0.0.1:2379"], options: deploy.options, command: "deploy")
        }
        #expect(throws: UsageError.unknownOption("--resum", command: "deploy", nearest: "--resume")) {
            _ = try parse(["--resum"], options: deploy.options, command: "deploy")
        }
        let fleet = try command("fleet")
        #expect(throws: UsageError.unknownOption("--flet", command: "fleet", nearest: "--fleet")) {
            _ = try parse(["status", "--flet", "web"], options: fleet.options, command: "fleet")
        }
    }
}
