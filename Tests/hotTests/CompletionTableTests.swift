import Testing

@testable import hot

/// What completion reads from the command table: argument positions and option values.
@Suite struct CompletionTableTests {
    private func command(_ name: String) throws -> Command {
        try #require(HotCLI.commands.first { $0.name == name })
    }

    @Test func argumentSlotsFollowTheArgumentCount() throws {
        #expect(try command("deploy").argumentSlots == [ArgumentSlot(index: 0, onward: true, values: .modules)])
        #expect(try command("rollback").argumentSlots == [ArgumentSlot(index: 0, onward: false, values: .modules)])
        #expect(try command("help").argumentSlots == [ArgumentSlot(index: 0, onward: false, values: .commands)])
        #expect(
            try command("call").argumentSlots == [
                ArgumentSlot(index: 0, onward: false, values: .moduleTargets), ArgumentSlot(index: 1, onward: true, values: .none),
            ])
        #expect(try command("status").argumentSlots == [])
        let pair = Command(
            name: "pair", summary: "", usage: "", details: "", options: [], arguments: 0...3, argumentValues: [.none, .nodes]
        ) { _ in }
        #expect(
            pair.argumentSlots == [
                ArgumentSlot(index: 0, onward: false, values: .none), ArgumentSlot(index: 1, onward: false, values: .nodes),
                ArgumentSlot(index: 2, onward: false, values: .nodes),
            ])
    }

    /// An option whose value name lists its words (`all|rolling|canary`) offers exactly those.
    @Test func listedValuesAreOffered() {
        for command in HotCLI.commands {
            for option in command.options where option.valueName.contains("|") && option.valueName == option.valueName.lowercased() {
                let words = option.valueName.split(separator: "|").map(String.init)
                #expect(option.values == .fixed(words), "\(command.name) \(option.name)")
            }
        }
    }

    @Test func nodeAndFileOptionsOfferNodesAndFiles() {
        for command in HotCLI.commands {
            for option in command.options {
                if option.name == "--node" { #expect(option.values == .nodes, "\(command.name) --node") }
                if ["FILE", "PATH"].contains(option.valueName) { #expect(option.values == .files, "\(command.name) \(option.name)") }
                if option.kind == .flag { #expect(option.values == .none, "\(command.name) \(option.name)") }
            }
        }
    }
}
