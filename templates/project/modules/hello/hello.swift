import Hot

// A hot module: edit this file, run `hot deploy`, and the running node
// answers with the new code, without a restart.

let module = HotModule(exports: [
    .function("greet", greet),
])

func greet(_ name: String) -> String {
    "Hello, \(name)!"
}
