import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Synchronization
import SystemPackage
import Testing

// What the bad-input suite shares: one node for the whole suite (started by a
// suite trait, stopped and removed by it whatever the tests did), a raw client
// that speaks the control protocol frame by frame so that a test can break it
// anywhere, and the small builds of hand-made module objects.

// MARK: - The shared node

/// The node the bad-input tests attack, and what it served before they began.
final class BadInputNode: @unchecked Sendable {
    // @unchecked: every field is immutable after `start`; the tests run one at a time.
    /// The project folder's scratch root.
    let scratch: Scratch
    /// The project folder (`<root>/app`).
    let app: String
    /// The node's process id.
    let pid: pid_t
    /// Its cookie.
    let cookie: [UInt8]
    /// What `hot status --json` said before any bad input.
    let baseline: VersionSnapshot
    /// The staged folder's listing before any bad input (the deploy's uploads).
    let stagedBaseline: Set<String>

    /// The one node of the running suite.
    @TaskLocal static var current: BadInputNode?

    var socketPath: String { app + "/.hot/node.sock" }
    var cookiePath: String { app + "/.hot/cookie" }
    var stagedPath: String { app + "/.hot/node/staged" }
    var stateDirectory: String { app + "/.hot/node" }

    private init(scratch: Scratch, pid: pid_t, cookie: [UInt8], baseline: VersionSnapshot, staged: Set<String>) {
        self.scratch = scratch
        self.app = scratch.path("app")
        self.pid = pid
        self.cookie = cookie
        self.baseline = baseline
        self.stagedBaseline = staged
    }

    /// `hot init app`, a `probe` module beside `hello`, `hot start`, then a
    /// deploy of probe v2, so that the node serves a current and an old
    /// version whose keys the tests can compare.
    static func start(in scratch: Scratch) throws -> BadInputNode {
        let initialized = try scratch.hot(["init", "app"], in: "")
        try #require(initialized.status == 0, "\(initialized)")
        try FileManager.default.createDirectory(atPath: scratch.path("app/modules/probe"), withIntermediateDirectories: true)
        try scratch.write("app/modules/probe/probe.swift", ProbeModule.source(version: 1))
        let started = try scratch.hot(["start"])
        try #require(started.status == 0, "\(started)")
        try scratch.write("app/modules/probe/probe.swift", ProbeModule.source(version: 2))
        let deployed = try scratch.hot(["deploy"])
        try #require(deployed.status == 0, "\(deployed)")
        let pid = try #require(pid_t(try scratch.read("app/.hot/node.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        let cookie = try Cookie.read(path: scratch.path("app/.hot/cookie"))
        let baseline = try VersionSnapshot.take(scratch)
        try #require(baseline.module("hello")?.current?.version == 1, "\(baseline)")
        try #require(baseline.module("probe")?.current?.version == 2, "\(baseline)")
        try #require(baseline.module("probe")?.old?.version == 1, "\(baseline)")
        let staged = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.path("app/.hot/node/staged")))
        return BadInputNode(scratch: scratch, pid: pid, cookie: cookie, baseline: baseline, staged: staged)
    }

    /// `hot` in the project folder.
    @discardableResult
    func hot(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        try scratch.hot(arguments, environment: environment)
    }

    /// A raw connection to the node, not yet past the handshake.
    func raw(timeoutMilliseconds: Int = 5_000) throws -> RawClient {
        try RawClient(path: socketPath, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// A raw connection past a good handshake.
    func authenticated() throws -> RawClient {
        let client = try raw()
        try client.handshake(cookie: cookie)
        return client
    }

    /// The product's own client, authenticated.
    func client() throws -> NodeClient {
        try NodeClient(address: .unix(path: socketPath), cookieFile: cookiePath)
    }

    /// The names in the staged folder now.
    func staged() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: stagedPath))
    }

    /// Temporary files of uploads anywhere in the node's state folder.
    func temporaryFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: stateDirectory)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix(".tmp") { found.append(item) }
        }
        return found
    }

    /// Polls until no upload's temporary file is left (the node cleans up on
    /// its connection's thread, a moment after the client went away).
    func expectNoTemporaryFiles(seconds: Double = 3, sourceLocation: SourceLocation = #_sourceLocation) {
        let deadline = Date().addingTimeInterval(seconds)
        while !temporaryFiles().isEmpty && Date() < deadline { usleep(20_000) }
        #expect(temporaryFiles().isEmpty, "temporary upload files left behind", sourceLocation: sourceLocation)
    }

    /// The node still runs (same process), answers a call through the CLI,
    /// and serves exactly the versions it served before any bad input.
    func expectUnharmed(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(Scratch.isAlive(pid), "the node process \(pid) died", sourceLocation: sourceLocation)
        let call = try hot(["call", "hello:greet", "still-here"])
        #expect(call.status == 0, "the node must still answer: \(call)", sourceLocation: sourceLocation)
        #expect(call.stdout == "\"Hello, still-here!\"\n", "\(call)", sourceLocation: sourceLocation)
        let now = try VersionSnapshot.take(scratch)
        #expect(now == baseline, "the node's versions changed:\nbefore \(baseline)\nafter  \(now)", sourceLocation: sourceLocation)
        #expect(now.pid == Int(pid), "the node restarted", sourceLocation: sourceLocation)
        #expect(temporaryFiles().isEmpty, "temporary files: \(temporaryFiles())", sourceLocation: sourceLocation)
    }

    /// The node's log (for failure messages).
    func log() -> String { (try? scratch.read("app/.hot/node.log")) ?? "" }
}

/// Starts the suite's one node before its first test and stops it (and
/// removes its folder) after the last.
struct BadInputNodeTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let scratch = try Scratch()
        defer { scratch.close() }
        let node = try BadInputNode.start(in: scratch)
        try await BadInputNode.$current.withValue(node) { try await function() }
    }
}

extension Trait where Self == BadInputNodeTrait {
    /// One node for the whole suite.
    static var sharedNode: Self { BadInputNodeTrait() }
}

/// The suite's node; fails the test if there is none.
func sharedNode(sourceLocation: SourceLocation = #_sourceLocation) throws -> BadInputNode {
    try #require(BadInputNode.current, "the suite's node did not start", sourceLocation: sourceLocation)
}

// MARK: - What the node serves

/// The versions a node serves, from `hot status --json`: what must not change
/// under bad input.
struct VersionSnapshot: Equatable, CustomStringConvertible {
    struct Version: Equatable {
        var version: Int
        var key: String?
    }

    struct Module: Equatable {
        var name: String
        var current: Version?
        var old: Version?
    }

    var node: String
    var pid: Int
    var modules: [Module]

    static func == (a: Self, b: Self) -> Bool { a.node == b.node && a.modules == b.modules }

    func module(_ name: String) -> Module? { modules.first { $0.name == name } }

    var description: String {
        modules.map { m in
            "\(m.name): current \(m.current.map { "v\($0.version) \($0.key ?? "-")" } ?? "none"), old \(m.old.map { "v\($0.version) \($0.key ?? "-")" } ?? "none")"
        }.joined(separator: "; ")
    }

    static func take(_ scratch: Scratch, sourceLocation: SourceLocation = #_sourceLocation) throws -> VersionSnapshot {
        let status = try scratch.hot(["status", "--json"])
        try #require(status.status == 0, "hot status failed: \(status)", sourceLocation: sourceLocation)
        let document = try #require(try parseJSON(status.stdout) as? [String: Any], sourceLocation: sourceLocation)
        let modules = try #require(document["modules"] as? [[String: Any]], sourceLocation: sourceLocation)
        func version(_ value: Any?) -> Version? {
            guard let map = value as? [String: Any], let number = map["version"] as? Int else { return nil }
            return Version(version: number, key: map["key"] as? String)
        }
        return VersionSnapshot(
            node: document["node"] as? String ?? "",
            pid: document["pid"] as? Int ?? -1,
            modules: modules.map { Module(name: $0["name"] as? String ?? "", current: version($0["current"]), old: version($0["old"])) }
                .sorted { $0.name < $1.name })
    }
}

// MARK: - A raw client

/// Why a raw exchange stopped.
enum RawError: Error, CustomStringConvertible {
    case closed
    case timedOut
    case system(SystemError)
    case unexpected(String)

    var description: String {
        switch self {
        case .closed: "connection closed by the node"
        case .timedOut: "timed out"
        case .system(let error): error.description
        case .unexpected(let what): what
        }
    }
}

/// How a connection ended, seen from the client.
enum ConnectionEnd: Equatable, CustomStringConvertible {
    /// The node closed it (EOF or reset).
    case closed
    /// Nothing happened within the wait.
    case stillOpen
    /// The node sent bytes (a response, say) instead of closing.
    case data(Int)

    var description: String {
        switch self {
        case .closed: "closed"
        case .stillOpen: "still open"
        case .data(let count): "\(count) bytes received"
        }
    }
}

/// The client's side of the control protocol, frame by frame, with every
/// step exposed: the tests send what no honest client would.
final class RawClient {
    let socket: Socket
    private var decoder = FrameDecoder()
    private(set) var session: Session?

    init(path: String, timeoutMilliseconds: Int = 5_000) throws {
        socket = try Socket.connect(to: .unix(path: path))
        try socket.setReadTimeout(.milliseconds(timeoutMilliseconds))
        try socket.setWriteTimeout(.milliseconds(timeoutMilliseconds))
    }

    deinit { socket.close() }

    /// The next frame and its MAC bytes (unchecked).
    func receiveFrame() throws -> (frame: Frame, mac: [UInt8]) {
        while true {
            if let next = try decoder.next() { return next }
            let bytes: [UInt8]
            do {
                bytes = try socket.read(upTo: 64 << 10)
            } catch {
                if error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock { throw RawError.timedOut }
                if error.errno == .connectionReset { throw RawError.closed }
                throw RawError.system(error)
            }
            if bytes.isEmpty { throw RawError.closed }
            decoder.append(bytes)
        }
    }

    /// The node's hello.
    func receiveHello() throws -> Frame {
        let hello = try receiveFrame().frame
        guard hello.type == .hello else { throw RawError.unexpected("expected hello, got \(hello.type)") }
        return hello
    }

    /// Runs the client's half of the handshake; returns the challenge frame's
    /// bytes as sent (for replays).
    @discardableResult
    func handshake(cookie: [UInt8]) throws -> [UInt8] {
        var handshake = ClientHandshake(cookie: cookie)
        let challenge = try handshake.answer(receiveHello())
        let bytes = Self.bytes(challenge)
        try write(bytes)
        let welcome = try receiveFrame().frame
        session = try handshake.finish(welcome)
        decoder.maxLength = FrameLimits.maxFrameLength
        decoder.macLength = FrameLimits.macLength
        return bytes
    }

    /// A frame's wire bytes with an explicit MAC (empty before the handshake).
    static func bytes(_ frame: Frame, mac: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        FrameCodec.encode(frame, mac: mac, into: &bytes)
        return bytes
    }

    /// The wire bytes of `frame` sealed with the session's next MAC (counts it).
    func sealed(_ frame: Frame) throws -> [UInt8] {
        guard session != nil else { throw RawError.unexpected("no session yet") }
        let mac = session!.seal(frame)
        return Self.bytes(frame, mac: mac)
    }

    /// The wire bytes of a request, sealed.
    func sealed(_ request: Request) throws -> [UInt8] {
        try sealed(Frame(.request, TermCodec.encode(request.term)))
    }

    func write(_ bytes: [UInt8]) throws {
        do { try socket.write(bytes) } catch {
            if error.errno == .brokenPipe || error.errno == .connectionReset { throw RawError.closed }
            throw RawError.system(error)
        }
    }

    /// Sends a sealed frame.
    func send(_ frame: Frame) throws { try write(sealed(frame)) }

    /// Receives and checks a response.
    func receiveResponse() throws -> Response {
        let (frame, mac) = try receiveFrame()
        guard session != nil else { throw RawError.unexpected("no session yet") }
        try session!.open(frame, mac: mac)
        guard frame.type == .response else { throw RawError.unexpected("expected a response, got \(frame.type)") }
        return try Response(term: TermCodec.decode(frame.payload))
    }

    /// Sends a request and waits for its response.
    func request(_ request: Request) throws -> Response {
        try write(sealed(request))
        return try receiveResponse()
    }

    /// Waits up to `seconds` for the node to close the connection.
    func awaitEnd(seconds: Double) -> ConnectionEnd {
        if decoder.bufferedCount > 0 { return .data(decoder.bufferedCount) }
        do { try socket.setReadTimeout(.seconds(seconds)) } catch { return .closed }
        do {
            let bytes = try socket.read(upTo: 64 << 10)
            return bytes.isEmpty ? .closed : .data(bytes.count)
        } catch {
            if error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock { return .stillOpen }
            return .closed  // ECONNRESET: the node closed with our bytes unread
        }
    }

    func close() { socket.close() }
}

// MARK: - Hand-made module objects

/// The source of the `probe` module the suite's node serves: a function of
/// two ints and a function that always throws.
enum ProbeModule {
    static func source(version: Int) -> String {
        """
        import Hot

        // probe, version \(version)
        struct ProbeRefusal: Error, CustomStringConvertible {
            let description: String
        }

        let module = HotModule(exports: [
            .function("add", add),
            .function("fail", fail),
            .function("version", { () -> Int in \(version) }),
        ])

        func add(_ a: Int, _ b: Int) -> Int { a + b }

        func fail(_ why: String) throws -> String {
            throw ProbeRefusal(description: "probe-refuses-\\(why)")
        }

        """
    }
}

/// Builds shared objects with swiftc the way `hot build` does (Sources/HotBuild/Compiler.swift),
/// except for what a test wants to get wrong.
enum ObjectBuilder {
    /// The folder of `Hot.swiftmodule` beside the built binaries.
    static var sdkModules: String { Binaries.directory + "/Modules" }

    /// Builds module `name` v1 from `body` (the Swift that defines
    /// `module`) under a fresh random key: its path, and the file name to
    /// stage it under.
    static func versionOne(in scratch: Scratch, _ name: String, _ body: String) throws -> (path: String, file: String) {
        let key = Hex.encode(randomBytes(32))
        let path = try build(
            in: scratch, folder: name,
            sources: ["\(name).swift": body, "entry.swift": entry(descriptor: descriptor(name: name, version: 1, key: key))],
            moduleName: "\(name)_v1", output: "\(name).so")
        return (path, "\(name).v1-\(key.prefix(12)).so")
    }

    /// A descriptor's text, this node's values unless overridden.
    static func descriptor(
        name: String, version: Int, key: String, abi: Int = HotSDK.abiVersion, sdk: String = HotSDK.fingerprint,
        compiler: String = HotSDK.compiler
    ) -> String {
        ModuleDescriptor(abi: abi, sdk: sdk, compiler: compiler, name: name, version: version, key: key).render()
    }

    /// The generated entry file's text for `descriptor`.
    static func entry(descriptor: String) -> String {
        let escaped = descriptor.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return """
            import Hot

            @_cdecl("hot_module_descriptor")
            public func hot_module_descriptor() -> UnsafeRawPointer {
                let text: StaticString = "\(escaped)"
                return UnsafeRawPointer(text.utf8Start)
            }

            @_cdecl("hot_module_entry")
            public func hot_module_entry() -> UnsafeMutableRawPointer {
                ModuleEntry.handOff(module)
            }

            """
    }

    /// Compiles `sources` (file name → text) into `<folder>/<output>` as a
    /// shared object; `hotModule` adds the SDK's module path and the Swift
    /// module name `hot build` would use.
    static func build(
        in scratch: Scratch, folder: String, sources: [String: String], moduleName: String, output: String,
        sdk: Bool = true
    ) throws -> String {
        let directory = scratch.path(folder)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [String] = []
        for (name, text) in sources.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            files.append(path)
        }
        let out = directory + "/" + output
        var arguments = ["-emit-library", "-parse-as-library", "-swift-version", "6", "-module-name", moduleName]
        if sdk { arguments += ["-I", sdkModules] }
        arguments += ["-Onone"] + files + ["-o", out]
        let compiled = try scratch.run("/usr/bin/env", ["swiftc"] + arguments, in: directory)
        try #require(compiled.status == 0, "swiftc failed: \(compiled)")
        return out
    }
}

// MARK: - Processes with a deadline

/// Runs an executable and waits at most `seconds`; a process still running
/// then is killed and reported as `nil`.
func runBounded(_ executable: String, _ arguments: [String], seconds: Double, in directory: String) throws -> Outcome? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let outFile = directory + "/.bounded.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    _ = FileManager.default.createFile(atPath: outFile + ".out", contents: nil)
    _ = FileManager.default.createFile(atPath: outFile + ".err", contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: outFile + ".out")
        try? FileManager.default.removeItem(atPath: outFile + ".err")
    }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile + ".out"))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile + ".err"))
    defer {
        try? out.close()
        try? err.close()
    }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
        process.terminate()
        usleep(200_000)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return nil
    }
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: outFile + ".out", encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: outFile + ".err", encoding: .utf8)) ?? "")
}

/// Seconds since an instant.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
