/// How much work and kept state one node takes from its modules before it
/// refuses more: a module that spawns or starts in a loop, or makes a kept
/// key per request, gets an error it can handle rather than taking the
/// node's threads or memory (docs/ARCHITECTURE.md, "Node limits"). Erlang's
/// `+P` process limit and its `system_limit` error are the model.
struct NodeLimits: Sendable {
    /// Processes at once. Each is a thread (1 MiB of stack reserved), so
    /// this also keeps the node below the kernel's thread and pid limits.
    var processes = 10_000
    /// Tracked tasks (`Tasks.start`) at once.
    var tasks = 10_000
    /// Kept keys (`Kept`) per module.
    var keptKeys = 10_000
}
