import Testing

@testable import HotDeploy

/// The ssh command line a client runs to reach a node on another machine.
@Suite("SSH tunnel")
struct SSHTunnelTests {
    @Test("batch mode, no terminal, the port, then the host and hotnode --relay with the socket quoted for the remote shell")
    func arguments() {
        let arguments = SSHTunnel.arguments(user: "ops", host: "db.example", port: 2222, socket: "/run/it's here.sock")
        #expect(arguments.prefix(3) == ["-o", "BatchMode=yes", "-T"])
        #expect(arguments.suffix(7) == ["-p", "2222", "--", "ops@db.example", "hotnode", "--relay", #"'/run/it'\''s here.sock'"#])
        let plain = SSHTunnel.arguments(user: nil, host: "db", port: nil, socket: "/s")
        #expect(!plain.contains("-p"))
        #expect(plain.suffix(4) == ["db", "hotnode", "--relay", "'/s'"])
    }
}
