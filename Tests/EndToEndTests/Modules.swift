/// Source texts of the hot modules the code-server tests build and load.
///
/// Every text carries its version number in the code it runs, so that each
/// version is a new content key (a real new build) and a call or a process
/// can tell which version answered.
enum CodeServerModules {
    /// A module of one constant: `v()` returns `version`, `hi()` a string
    /// naming the module and the version. With `failingOnLoad`, its on-load
    /// hook throws an error whose text is `<name>-refuses-to-load`.
    static func constant(_ name: String, version: Int, failingOnLoad: Bool = false) -> String {
        """
        import Hot

        // \(name), version \(version)
        struct OnLoadRefused: Error, CustomStringConvertible {
            var description: String { "\(name)-refuses-to-load" }
        }

        let module = HotModule(
            exports: [
                .function("v", { () -> Int in \(version) }),
                .function("hi", { () -> String in "\(name) v\(version)" }),
            ],
            onLoad: \(failingOnLoad ? "{ throw OnLoadRefused() }" : "nil"))

        """
    }

    /// The plain process of the Erlang t2 experiment: `loop(state)` blocks in
    /// `receive` and, by message:
    /// - `"stop"` returns (the process ends normally);
    /// - `"switch"` re-enters `loop` in the current version with state + 1
    ///   (the code switch, Erlang's `?MODULE:loop(State)`);
    /// - `"crash"` throws an error whose text is `t2-crashed-on-purpose`;
    /// - `{"ping": TAG}` answers by spawning a process named
    ///   `TAG_v<version>_s<state>`: which version handled the message, with
    ///   which state, shows in `hot status`.
    /// `version()` returns the version number.
    static func process(_ name: String = "t2", version: Int) -> String {
        """
        import Hot

        // \(name), version \(version)
        let module = HotModule(exports: [
            Export(name: "loop", arity: 1) { args in try loop(args[0]) },
            .function("version", { () -> Int in \(version) }),
        ])

        struct Crash: Error, CustomStringConvertible {
            var description: String { "t2-crashed-on-purpose in v\(version)" }
        }

        func loop(_ state: Term) throws -> Term {
            let count = state.intValue ?? 0
            while true {
                guard let message = try Process.receive() else { continue }
                if let tag = message["ping"]?.stringValue {
                    _ = try Process.spawn("\(name)", "loop", [0], name: "\\(tag)_v\(version)_s\\(count)")
                    continue
                }
                switch message.stringValue {
                case "stop": return .null
                case "switch": throw CodeSwitch(to: "loop", [.int(count + 1)])
                case "crash": throw Crash()
                default: continue
                }
            }
        }

        """
    }

    /// The shape of a counter version's state and its `codeChange`.
    enum CounterShape {
        /// `State { count }`, the default `codeChange`.
        case count
        /// `State { count, label }`: `codeChange` keeps the count and fills
        /// the label with `filled from v<old version>`.
        case labelled
        /// As `labelled`, but `codeChange` throws `counter-v<N>-refuses-state`.
        case refusing
    }

    /// A gen_server counter, `counter`, and the exports that call it by its
    /// registered name `counter`: `bump()` adds one, `get()` reads. Each reply
    /// is a map with `count`, `version` (of the code that handled it) and,
    /// in the labelled shapes, `label`.
    static func counter(version: Int, shape: CounterShape) -> String {
        let state: String
        let reply: String
        let codeChange: String
        switch shape {
        case .count:
            state = "struct State: Codable { var count: Int }"
            reply = #"["count": .int(state.count), "version": \#(version)]"#
            codeChange = ""
        case .labelled, .refusing:
            state = "struct State: Codable { var count: Int; var label: String }"
            reply = #"["count": .int(state.count), "version": \#(version), "label": .string(state.label)]"#
            codeChange =
                shape == .labelled
                ? """
                    static func codeChange(from version: Int, state: Term) throws -> State {
                        guard let count = state["count"]?.intValue else { throw Refused(reason: "no count in \\(state)") }
                        return State(count: count, label: "filled from v\\(version)")
                    }
                """
                : """
                    static func codeChange(from version: Int, state: Term) throws -> State {
                        throw Refused(reason: "counter-v\(version)-refuses-state")
                    }
                """
        }
        let start = shape == .count ? "State(count: 0)" : #"State(count: 0, label: "new")"#
        return """
            import Hot

            // counter, version \(version)
            let module = HotModule(
                exports: [
                    .function("bump", { () throws -> Term in try Servers.call("counter", "bump") }),
                    .function("get", { () throws -> Term in try Servers.call("counter", "get") }),
                ],
                servers: [.server("counter", Counter.self)])

            struct Refused: Error, CustomStringConvertible {
                let reason: String
                var description: String { reason }
            }

            enum Counter: Server {
                \(state)

                static func start(_ args: [Term]) throws -> State { \(start) }

                static func handleCall(_ request: Term, state: inout State) throws -> Term {
                    if request.stringValue == "bump" { state.count += 1 }
                    return \(reply)
                }
            \(codeChange)
            }

            """
    }

    /// A module whose export `ask()` makes an external call to `back:answer()`.
    static func front(version: Int) -> String {
        """
        import Hot

        // front, version \(version)
        let module = HotModule(exports: [
            .function("ask", { () throws -> Term in
                let answer = try Modules.call("back", "answer", [])
                return .string("front v\(version) heard: \\(answer.stringValue ?? "?")")
            }),
        ])

        """
    }

    /// The callee of `front`: `answer()` names its version.
    static func back(version: Int) -> String {
        """
        import Hot

        // back, version \(version)
        let module = HotModule(exports: [
            .function("answer", { () -> String in "back v\(version)" }),
        ])

        """
    }
}
