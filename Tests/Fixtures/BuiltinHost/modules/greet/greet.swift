import Hot

// The built-in version of the fixture host's module: what `swift build`
// links into BuiltinHostFixture, served as v0 with no hot build.
let module = HotModule(exports: [
    .function("greet", { (name: String) -> String in "Hello, \(name) (built in)" })
])
