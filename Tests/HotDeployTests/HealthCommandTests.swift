import HotDeploy
import HotPlatform
import Testing

@testable import HotDeploy

/// `--health-cmd`'s output is read up to a bound; the rest is drained and dropped.
@Suite("Rollout: the health command")
struct HealthCommandTests {
    @Test("a failing command that prints a megabyte on one line: the failure quotes at most the bound, and the command is not held up")
    func outputIsBounded() throws {
        let command = "printf '%*s' 1000000 '' | tr ' ' x; exit 3"
        var message = ""
        do {
            try Rollout.runHealthCommand(command, environment: currentEnvironment(), timeout: .seconds(60))
        } catch {
            message = error.description
        }
        #expect(message.hasPrefix("health command exited 3: xxx"), "\(message.prefix(80))")
        #expect(message.utf8.count <= Rollout.healthOutputLimit + 100, "kept \(message.utf8.count) bytes")
    }

    @Test("a command that runs past its deadline is killed, and says so")
    func deadline() throws {
        #expect(throws: ClientError.self) {
            try Rollout.runHealthCommand("sleep 30", environment: currentEnvironment(), timeout: .milliseconds(300))
        }
    }
}
