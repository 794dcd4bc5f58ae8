import Testing

@testable import HotPatch

/// The planner on the changes a developer makes to an app's own code: which
/// members a patch replaces, what it adds, and what only a restart can make
/// live, each named with its line.
@Suite("Patch planner")
struct PatchPlannerTests {
    static let greeter = """
        import Foundation

        struct Greeter {
            var prefix = "hi"
            init(prefix: String) { self.prefix = prefix }
            func greet(_ name: String) -> String { "Hello, \\(name)" }
            private func secret() -> Int { 1 }
            var shout: String { prefix.uppercased() }
            static func make() -> Greeter { Greeter(prefix: "yo") }
            subscript(index: Int) -> Character { Array(prefix)[index] }
        }

        enum Mood { case happy, sad }

        func hostGreeting() -> String {
            let words = ["a", "b"].map { $0.uppercased() }
            return words.joined()
        }
        """

    func plan(_ edit: (String) -> String, replaced: Set<String> = []) -> FilePatch {
        PatchPlanner.plan(file: "Sources/App/Greeter.swift", module: "App", built: Self.greeter, saved: edit(Self.greeter), replaced: replaced)
    }

    @Test("comments and spacing are no change; the same source plans nothing")
    func nothing() {
        let patch = plan { $0.replacing("func greet(_ name: String) -> String { \"Hello, \\(name)\" }", with: "// a comment\n    func greet(_ name: String)   -> String {\n \"Hello, \\(name)\"\n }") }
        #expect(patch.isEmpty)
        #expect(patch.restartNeeded.isEmpty)
        #expect(plan { $0 }.isEmpty)
    }

    @Test("a method, a private method, a computed property, a static method, a subscript and a closure inside a free function are replaced")
    func replaced() {
        let patch = plan { source in
            source.replacing("\"Hello, \\(name)\"", with: "\"Howdy, \\(name)\"")
                .replacing("-> Int { 1 }", with: "-> Int { 2 }")
                .replacing("prefix.uppercased() }", with: "prefix.uppercased() + \"!\" }")
                .replacing("Greeter(prefix: \"yo\")", with: "Greeter(prefix: \"hey\")")
                .replacing("Array(prefix)[index]", with: "Array(prefix.uppercased())[index]")
                .replacing("$0.uppercased()", with: "$0.lowercased()")
        }
        #expect(patch.restartNeeded == [])
        #expect(patch.members.map(\.name) == [
            "Greeter.greet(_:)", "Greeter.secret()", "Greeter.shout", "Greeter.make()", "Greeter.subscript(_:)", "hostGreeting()",
        ])
        #expect(patch.members.map(\.line) == [6, 7, 8, 9, 10, 15])
        let text = PatchModuleSource.files([patch])[0].text
        #expect(text.contains("@testable @_private(sourceFile: \"Greeter.swift\") import App"))
        #expect(text.contains("import Foundation"))
        #expect(text.contains("@_dynamicReplacement(for: greet(_:))\n    func greet__hot(_ name: String) -> String {"))
        #expect(text.contains("return \"Howdy, \\(name)\""))
        #expect(text.contains("@_dynamicReplacement(for: shout)\n    var shout__hot: String {"))
        #expect(text.contains("@_dynamicReplacement(for: make())\n    static func make__hot() -> Greeter {"))
        #expect(text.contains("@_dynamicReplacement(for: subscript(_:))\n    subscript(index: Int) -> Character {"))
        #expect(text.contains("@_dynamicReplacement(for: hostGreeting())\nfunc hostGreeting__hot() -> String {"))
    }

    @Test("stored properties, enum cases, initializers, conformances and top-level code are restart-needed, each at its line")
    func restart() {
        let patch = plan { source in
            source.replacing("var prefix = \"hi\"", with: "var prefix = \"hi\"\n    var count = 0")
                .replacing("case happy, sad", with: "case happy, sad, bored")
                .replacing("self.prefix = prefix }", with: "self.prefix = prefix + \"!\" }")
                .replacing("struct Greeter {", with: "struct Greeter: Sendable {")
                + "\nprint(\"started\")\n"
        }
        #expect(patch.generated == nil)
        let reasons = patch.restartNeeded.map { "\($0.line) \($0.why)" }
        #expect(reasons.contains("3 the declaration of Greeter changed (its generic parameters, conformances or attributes)"))
        #expect(reasons.contains("5 a stored property was added"))
        #expect(reasons.contains("6 an initializer changed"))
        #expect(reasons.contains { $0.hasPrefix("14 an enum case was added") })
        #expect(reasons.contains { $0.hasSuffix("top-level code changed, which ran once, at start-up") })
        #expect(patch.restartNeeded.last?.fix == "code in a function it calls is patched live")
    }

    @Test("added functions and types go into the patch as written; a changed signature is an added function")
    func additions() {
        let patch = plan { source in
            source.replacing("func greet(_ name: String) -> String { \"Hello, \\(name)\" }", with: "func greet(_ name: String) -> String { Formal().wrap(name) + excited(name) }\n    func excited(_ name: String) -> String { name + \"!\" }")
                + "\nstruct Formal { func wrap(_ s: String) -> String { \"Dear \\(s)\" } }\n"
        }
        #expect(patch.restartNeeded == [])
        #expect(patch.members.map(\.name) == ["Greeter.greet(_:)"])
        #expect(patch.additions.map(\.name) == ["Greeter.excited(_:)", "Formal"])
        let text = PatchModuleSource.files([patch])[0].text
        #expect(text.contains("func excited(_ name: String) -> String { name + \"!\" }"))
        #expect(text.contains("struct Formal { func wrap"))
    }

    @Test("a function that registers routes is restart-needed with the fix; a handler method it names is replaced")
    func routes() {
        let built = """
            import Hummingbird
            struct TodoController {
                func addRoutes(to group: RouterGroup<Context>) {
                    group.get(use: list)
                    group.get("/inline") { _, _ in "one" }
                }
                func list(_ request: Request, context: Context) async throws -> String { "list" }
            }
            """
        let inline = PatchPlanner.plan(
            file: "Sources/App/TodoController.swift", module: "App", built: built,
            saved: built.replacing("\"one\"", with: "\"two\""))
        #expect(inline.restartNeeded.count == 1)
        #expect(inline.restartNeeded.first?.line == 3)
        #expect(inline.restartNeeded.first?.why.contains("registers routes") == true)
        #expect(inline.restartNeeded.first?.fix?.contains("use: controller.list") == true)
        #expect(inline.restartNeeded.first?.description.hasPrefix("restart needed: TodoController.addRoutes(to:) registers routes") == true)
        let method = PatchPlanner.plan(
            file: "Sources/App/TodoController.swift", module: "App", built: built,
            saved: built.replacing("\"list\"", with: "\"all\""))
        #expect(method.restartNeeded == [])
        #expect(method.members.map(\.name) == ["TodoController.list(_:context:)"])
    }

    @Test("a member an earlier patch replaced is replaced again when its file goes back to the build, so the build's code runs")
    func reverted() {
        let patch = plan({ $0 }, replaced: ["Greeter.func greet(_: String) -> String"])
        #expect(patch.members.map(\.name) == ["Greeter.greet(_:)"])
        #expect(patch.members.map(\.changed) == [false])
    }

    @Test("a member of a generic type's constrained extension and of a nested type keep their context")
    func contexts() {
        let built = """
            struct Box<T> { struct Lid { func open() -> Bool { true } } }
            extension Box where T == Int {
                func sum() -> Int { 0 }
            }
            protocol Named { var name: String { get } }
            extension Named { func hello() -> String { "hi" } }
            """
        let saved = built.replacing("{ true }", with: "{ false }").replacing("{ 0 }", with: "{ 1 }").replacing("\"hi\"", with: "\"hello\"")
        let patch = PatchPlanner.plan(file: "Sources/App/Box.swift", module: "App", built: built, saved: saved)
        #expect(patch.restartNeeded == [])
        #expect(patch.members.map(\.name) == ["Box.Lid.open()", "Box.sum()", "Named.hello()"])
        let text = PatchModuleSource.files([patch])[0].text
        #expect(text.contains("extension Box.Lid {"))
        #expect(text.contains("extension Box where T == Int {"))
        #expect(text.contains("extension Named {"))
        let requirement = PatchPlanner.plan(
            file: "Sources/App/Box.swift", module: "App", built: built, saved: built.replacing("var name: String { get }", with: "var name: String { get set }"))
        #expect(requirement.restartNeeded.map(\.why) == ["a protocol requirement changed"])
    }
}
