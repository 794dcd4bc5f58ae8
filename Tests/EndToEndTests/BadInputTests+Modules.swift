import Foundation
import Hot
import HotDeploy
import HotPlatform
import HotWire
import Testing

/// Bad objects and bad calls: uploads that verify but are no loadable hot
/// module, and external calls that reach nothing or the wrong shape.
extension BadInputTests {
    /// A 64-digit content key, different each time.
    private static func freshKey() -> String { Hex.encode(randomBytes(32)) }

    /// Stages `path` under `fileName` and loads it; returns the node's error
    /// (recording an issue if the load succeeded).
    private func stageAndLoad(
        _ node: BadInputNode, _ path: String, as fileName: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (code: ErrorCode, message: String)? {
        let client = try node.client()
        try client.stage(path: path, fileName: fileName)
        do {
            let result = try client.request(.load(files: [fileName], purge: false, force: false))
            Issue.record("\(fileName) was loaded: \(result)", sourceLocation: sourceLocation)
            return nil
        } catch {
            guard case .failed(let code, let message) = error else {
                Issue.record("the load failed without an answer: \(error)", sourceLocation: sourceLocation)
                return nil
            }
            return (code, message)
        }
    }

    // MARK: objects

    @Test("a file that is not ELF, staged under a valid name: load refused with badFile")
    func notELF() throws {
        let node = try sharedNode()
        let text = node.scratch.path("not-elf.txt")
        try String(repeating: "this is a text file, not a shared object\n", count: 50).write(toFile: text, atomically: true, encoding: .utf8)
        let empty = node.scratch.path("empty")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        // An ELF header and nothing after it: dlopen must fail, not crash the node.
        let truncated = node.scratch.path("truncated-elf")
        let real = try Data(contentsOf: URL(fileURLWithPath: "/bin/true"))
        try real.prefix(200).write(to: URL(fileURLWithPath: truncated))

        for (index, path) in [text, empty, truncated].enumerated() {
            let file = "notelf.v\(index + 1)-0123456789ab.so"
            let refused = try #require(try stageAndLoad(node, path, as: file))
            #expect(refused.code == .badFile, "\(lastPathComponent(path)): \(refused)")
            if index < 2 {
                #expect(refused.message.contains("not an ELF"), "\(lastPathComponent(path)): \(refused)")
            }
        }
        try node.expectUnharmed()
    }

    @Test("an ELF with no hot module entry (a plain swiftc library): load refused with badFile")
    func noModuleEntry() throws {
        let node = try sharedNode()
        let object = try ObjectBuilder.build(
            in: node.scratch, folder: "plain", sources: ["plain.swift": "public func plain() -> Int { 42 }\n"],
            moduleName: "plain", output: "libplain.so", sdk: false)
        let refused = try #require(try stageAndLoad(node, object, as: "noentry.v1-0123456789ab.so"))
        #expect(refused.code == .badFile, "\(refused)")
        #expect(refused.message.contains("hot_module_descriptor"), "the message must say what is missing: \(refused)")
        // A system library that is ELF and loadable but no hot module.
        let libm = ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6"]
            .first { FileManager.default.fileExists(atPath: $0) }
        if let libm {
            let refusedLibm = try #require(try stageAndLoad(node, libm, as: "noentry.v2-0123456789ab.so"))
            #expect(refusedLibm.code == .badFile, "\(refusedLibm)")
        }
        try node.expectUnharmed()
    }

    @Test("a module built against another SDK or ABI: load refused with mismatch, naming both sides", arguments: ["sdk", "abi"])
    func builtForAnotherSDK(_ field: String) throws {
        let node = try sharedNode()
        let name = "other_\(field)"
        let key = Self.freshKey()
        let descriptor = field == "sdk"
            ? ObjectBuilder.descriptor(name: name, version: 1, key: key, sdk: "deadbeefdeadbeef")
            : ObjectBuilder.descriptor(name: name, version: 1, key: key, abi: 99)
        let object = try ObjectBuilder.build(
            in: node.scratch, folder: name,
            sources: [
                "\(name).swift": "import Hot\n\nlet module = HotModule(exports: [.function(\"v\", { () -> Int in 1 })])\n",
                "entry.swift": ObjectBuilder.entry(descriptor: descriptor),
            ],
            moduleName: "\(name)_v1", output: "\(name).so")
        let file = "\(name).v1-\(key.prefix(12)).so"
        let refused = try #require(try stageAndLoad(node, object, as: file))
        #expect(refused.code == .mismatch, "\(refused)")
        // The deploy's first phase (a trial load of what was staged) must say the same.
        do {
            let checked = try node.client().request(.check(files: [file]))
            Issue.record("check of \(file) passed: \(checked)")
        } catch {
            if case ClientError.failed(let code, _) = error { #expect(code == .mismatch, "check: \(error)") } else { Issue.record("check: \(error)") }
        }
        if field == "sdk" {
            #expect(refused.message.contains("deadbeefdeadbeef"), "the module's side: \(refused)")
            #expect(refused.message.contains(HotSDK.fingerprint), "the node's side: \(refused)")
        } else {
            #expect(refused.message.contains("ABI version 99"), "the module's side: \(refused)")
            #expect(refused.message.contains("ABI version \(HotSDK.abiVersion)"), "the node's side: \(refused)")
        }
        try node.expectUnharmed()
    }

    @Test("a module whose on-load hook traps: refused by the trial load, the node lives")
    func onLoadTraps() throws {
        let node = try sharedNode()
        let key = Self.freshKey()
        let source = """
            import Hot

            let module = HotModule(
                exports: [.function("v", { () -> Int in 1 })],
                onLoad: { fatalError("trap-module-traps-on-load") })

            """
        let object = try ObjectBuilder.build(
            in: node.scratch, folder: "trap",
            sources: ["trap.swift": source, "entry.swift": ObjectBuilder.entry(descriptor: ObjectBuilder.descriptor(name: "trap", version: 1, key: key))],
            moduleName: "trap_v1", output: "trap.so")
        let refused = try #require(try stageAndLoad(node, object, as: "trap.v1-\(key.prefix(12)).so"))
        #expect(refused.code == .badFile || refused.code == .onLoadFailure, "\(refused)")
        #expect(refused.message.contains("trial load"), "\(refused)")
        #expect(refused.message.contains("trap-module-traps-on-load"), "the trap's message must reach the client: \(refused)")
        // A call to it reaches nothing: it never became current.
        let call = try node.hot(["call", "trap:v"])
        #expect(call.status == 1, "\(call)")
        try node.expectUnharmed()
    }

    // MARK: calls

    @Test("an unknown module or function in call or purge: exit 1 with a clear message")
    func unknownModuleOrFunction() throws {
        let node = try sharedNode()
        let cases: [(arguments: [String], mentions: String)] = [
            (["call", "nosuch:greet", "x"], "nosuch"),
            (["call", "hello:nosuch"], "nosuch"),
            (["call", "probe:nosuch", "1", "2"], "nosuch"),
            (["purge", "nosuch"], "nosuch"),
            (["purge", "nosuch", "--soft"], "nosuch"),
        ]
        for item in cases {
            let outcome = try node.hot(item.arguments)
            #expect(outcome.status == 1, "\(item.arguments): \(outcome)")
            #expect(outcome.stderr.contains(item.mentions), "\(item.arguments): \(outcome)")
            #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome)")
            #expect(outcome.stdout.isEmpty, "\(item.arguments): \(outcome)")
        }
        // The codes, through the client, and names no module can have.
        let client = try node.client()
        for (module, function) in [("nosuch", "f"), ("hello", "nosuch"), ("../hello", "greet"), ("", ""), ("hello/..", "greet")] {
            do {
                let result = try client.request(.call(module: module, function: function, args: [.string("x")]))
                Issue.record("\(module):\(function) answered \(result)")
            } catch {
                guard case .failed(let code, _) = error else { Issue.record("\(error)"); continue }
                #expect(code == .undefined, "\(module):\(function): \(error)")
            }
        }
        for module in ["nosuch", "../probe", ""] {
            do {
                let result = try client.request(.purge(module: module, soft: false))
                Issue.record("purge \(module) answered \(result)")
            } catch {
                guard case .failed(let code, _) = error else { Issue.record("\(error)"); continue }
                #expect(code == .noFile, "purge \(module): \(error)")
            }
        }
        try node.expectUnharmed()
    }

    @Test("a call with the wrong number or types of arguments: exit 1, badArgument")
    func wrongArguments() throws {
        let node = try sharedNode()
        let cases: [(arguments: [String], mentions: String)] = [
            (["call", "hello:greet"], "got 0"),
            (["call", "hello:greet", "a", "b"], "got 2"),
            (["call", "hello:greet", "42"], "argument 1"),
            (["call", "hello:greet", "[1,2]"], "argument 1"),
            (["call", "hello:greet", "null"], "argument 1"),
            (["call", "probe:add", "1"], "got 1"),
            (["call", "probe:add", "1", "x"], "argument 2"),
            (["call", "probe:add", "1", "2.5"], "argument 2"),
            (["call", "probe:add", "{\"a\":1}", "2"], "argument 1"),
            (["call", "probe:add", "true", "2"], "argument 1"),
        ]
        for item in cases {
            let outcome = try node.hot(item.arguments)
            #expect(outcome.status == 1, "\(item.arguments): \(outcome)")
            #expect(outcome.stderr.contains(item.mentions), "\(item.arguments): \(outcome)")
            #expect(outcome.stdout.isEmpty, "\(item.arguments): \(outcome)")
        }
        // Deeply nested and large arguments are refused or answered, never fatal.
        let client = try node.client()
        var nested: Term = .int(1)
        for _ in 0..<100 { nested = .list([nested]) }
        for args: [Term] in [[], [.int(1)], [.string("a"), .string("b")], [nested], [.bytes(randomBytes(100_000))], [.map(["x": .null])]] {
            do {
                let result = try client.request(.call(module: "hello", function: "greet", args: args))
                Issue.record("greet(\(args.count) args) answered \(result)")
            } catch {
                guard case .failed(let code, _) = error else { Issue.record("\(error)"); continue }
                #expect(code == .badArgument, "\(error)")
            }
        }
        #expect(try node.hot(["call", "probe:add", "1", "2"]).stdout == "3\n", "a good call still works")
        try node.expectUnharmed()
    }

    @Test("a function that throws: exit 1 with its message")
    func throwingFunction() throws {
        let node = try sharedNode()
        let outcome = try node.hot(["call", "probe:fail", "today"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("probe-refuses-today"), "the function's own message: \(outcome)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome)")
        #expect(outcome.stdout.isEmpty)
        let client = try node.client()
        for _ in 0..<20 {
            do {
                _ = try client.request(.call(module: "probe", function: "fail", args: [.string("again")]))
                Issue.record("fail returned")
            } catch {
                guard case .failed(let code, let message) = error else { Issue.record("\(error)"); continue }
                #expect(code == .raised)
                #expect(message.contains("probe-refuses-again"))
            }
        }
        try node.expectUnharmed()
    }
}

private func lastPathComponent(_ path: String) -> String { (path as NSString).lastPathComponent }
