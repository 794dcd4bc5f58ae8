import Foundation
import Testing

/// A PostgreSQL server of the test's own: Debian's `postgresql` (which
/// `scripts/deps.sh test` installs), a new cluster in a temporary folder,
/// listening on a free loopback port, trusting local connections as the
/// user `todos`, with a database `todos`. `stop()` ends the server and
/// removes the folder, whatever the test did.
///
/// As root (CI), the server runs as the `postgres` user, which the package
/// makes: PostgreSQL refuses to run as root.
final class PostgresServer: @unchecked Sendable {
    let port: Int
    let user = "todos"
    let database = "todos"
    private let folder: String
    private var server: Foundation.Process?

    /// The environment the app reads its database from.
    var environment: [String: String] {
        ["POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "\(port)", "POSTGRES_USER": user, "POSTGRES_DB": database]
    }

    init() throws {
        let bin = try Self.binaries()
        var template = Array("/tmp/hot-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        folder = String(cString: made)
        port = Int(try freeLoopbackPort())
        do {
            if getuid() == 0 {
                guard let account = getpwnam("postgres") else { throw Failure("no postgres user: run scripts/deps.sh test") }
                guard chown(folder, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else { throw Failure("cannot hand \(folder) to postgres") }
            }
            let initdb = try Self.run(
                bin + "/initdb", ["-D", folder + "/data", "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync"])
            guard initdb.status == 0 else { throw Failure("initdb failed: \(initdb)") }
            try start(bin)
            let created = try psql("CREATE DATABASE \(database)", database: "postgres")
            guard created.status == 0 else { throw Failure("CREATE DATABASE failed: \(created)") }
        } catch {
            stop()
            throw error
        }
    }

    /// Runs one SQL statement through psql; its output is unaligned, tuples only.
    func psql(_ sql: String, database: String? = nil) throws -> Outcome {
        try Self.run(
            "/usr/bin/psql",
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database ?? self.database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            asServer: false)
    }

    /// Stops the server (fast shutdown, then SIGKILL) and removes its folder.
    func stop() {
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(15)
            while server.isRunning, Date() < deadline { usleep(50_000) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        server = nil
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func start(_ bin: String) throws {
        let process = Foundation.Process()
        let arguments = [
            bin + "/postgres", "-D", folder + "/data", "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=\(folder)", "-c", "fsync=off", "-c", "max_connections=200",
        ]
        // setpriv runs the server in its own place (no child of its own), so its pid is the server's.
        (process.executableURL, process.arguments) = Self.asServerUser(arguments)
        let log = folder + "/server.log"
        guard FileManager.default.createFile(atPath: log, contents: nil) else { throw Failure("cannot create \(log)") }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        server = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { throw Failure("postgres exited: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
            if try Self.run(bin + "/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user], asServer: false).status == 0 { return }
            usleep(100_000)
        }
        throw Failure("postgres did not accept connections within 60 s: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// The folder of Debian's PostgreSQL server programs (the newest, if several).
    private static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/postgres") else {
            throw Failure("PostgreSQL is not installed (no \(root)/*/bin/postgres): run scripts/deps.sh test")
        }
        return "\(root)/\(newest)/bin"
    }

    private static func asServerUser(_ command: [String]) -> (URL, [String]) {
        guard getuid() == 0 else { return (URL(fileURLWithPath: command[0]), Array(command.dropFirst())) }
        return (URL(fileURLWithPath: "/usr/bin/setpriv"), ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + command)
    }

    /// Runs a PostgreSQL program, as the server's user unless `asServer` is
    /// false, from a folder every user can enter (initdb looks at it).
    private static func run(_ executable: String, _ arguments: [String], asServer: Bool = true) throws -> Outcome {
        let (url, rest) = asServer ? asServerUser([executable] + arguments) : (URL(fileURLWithPath: executable), arguments)
        return try runCommand(url.path, rest, in: "/")
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
