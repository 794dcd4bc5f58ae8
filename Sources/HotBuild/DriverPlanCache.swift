#if canImport(Glibc)
import Glibc
#endif
import HotPlatform

/// The derived `DriverPlan`s of a project, one file per key under its build
/// folder; and, beside them, a marker for each key whose plan could not be
/// derived, so that the build says it uses the driver once, not every time.
public struct DriverPlanCache: Sendable {
    /// The folder of the plan files.
    public let directory: String

    /// The cache kept in `directory` (`ProjectLayout.driverPlansDirectory`).
    public init(directory: String) { self.directory = directory }

    /// What the builder should do for a job.
    public enum Lookup: Sendable {
        /// Run these steps directly.
        case direct(DriverPlan.Steps)
        /// Run the driver: no plan for this key. `announce` is true the first
        /// time, when the build should say why.
        case driver(reason: String, announce: Bool)
    }

    /// The key of `job`'s plan: the compiler (path, size, time), the number of
    /// sources (the driver passes three or more differently) and every
    /// argument but those that vary from build to build under the same flags.
    /// A new toolchain, a changed `swiftcFlags`, a host's flags or -O give a new
    /// key, so the plan is derived again.
    public static func key(for job: CompileJob, toolchain: Toolchain) -> String {
        var hasher = SHA256Hasher()
        hasher.update(Array("hot-driver-plan 1\0\(toolchain.swiftc)\0\(toolchain.stamp)\0\(job.sources.count + 1)\0".utf8))
        for argument in job.planKeyArguments { hasher.update(Array((argument + "\0").utf8)) }
        return hasher.hexDigest()
    }

    /// The plan file for a key.
    public func planPath(key: String) -> String { "\(directory)/\(key).plan" }
    /// The marker of a key that uses the driver.
    public func fallbackPath(key: String) -> String { "\(directory)/\(key).driver" }

    /// The steps for `job`: from the cached plan, else derived now (and
    /// cached); or the driver, with the reason.
    public func lookup(_ job: CompileJob, toolchain: Toolchain) -> Lookup {
        let key = Self.key(for: job, toolchain: toolchain)
        if let marker = readFile(fallbackPath(key: key)) {
            return .driver(reason: String(decoding: marker, as: UTF8.self), announce: false)
        }
        let plan: DriverPlan
        // The key stamps swiftc alone: a plan whose linker or clang has gone
        // since (a system update) is derived again.
        if let cached = readFile(planPath(key: key)).flatMap(Self.decode),
            [cached.frontend, cached.autolink, cached.clangLink, cached.link].allSatisfy({ access($0[0], X_OK) == 0 })
        {
            plan = cached
        } else {
            do {
                // One name, emptied first: builds of a project take turns
                // (ProjectLock), and a build killed mid-derivation leaves it behind.
                let scratch = "\(directory)/derive"
                removeTree(scratch)
                plan = try DriverPlan.derive(for: job, swiftc: toolchain.swiftc, scratch: scratch)
                try? makeDirectories(directory)
                try? writeFileAtomically(planPath(key: key), Self.encode(plan), durable: false)
            } catch {
                return giveUp(key: key, reason: error.reason)
            }
        }
        guard let steps = plan.steps(for: job) else {
            return giveUp(key: key, reason: "the plan keeps a value of the build it was derived from")
        }
        return .direct(steps)
    }

    /// What swift-autolink-extract wrote for an object whose
    /// `.swift1_autolink_entries` section held `section`, when it ran on such
    /// an object before under this compiler: the section depends only on the
    /// module's imports, so most builds skip the tool. (It is not redone
    /// in-process: the tool moves the runtime libraries after the others in an
    /// order of its own, which this would have to copy.)
    public func autolinkEntries(section: [UInt8], toolchain: Toolchain) -> [String]? {
        readFile(autolinkPath(section: section, toolchain: toolchain)).map {
            String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    /// Remembers what swift-autolink-extract wrote for `section`.
    public func remember(autolink entries: [String], section: [UInt8], toolchain: Toolchain) {
        try? makeDirectories(directory)
        try? writeFileAtomically(
            autolinkPath(section: section, toolchain: toolchain), Array(entries.map { $0 + "\n" }.joined().utf8), durable: false)
    }

    private func autolinkPath(section: [UInt8], toolchain: Toolchain) -> String {
        "\(directory)/autolink-\(SHA256Hasher.hex(of: Array("\(toolchain.swiftc)\0\(toolchain.stamp)\0".utf8) + section)).list"
    }

    private func giveUp(key: String, reason: String) -> Lookup {
        // Ctrl-C reaches the driver too: what it failed to print says nothing
        // about the plan, and the build is about to stop anyway.
        if Interruption.happened { return .driver(reason: reason, announce: false) }
        try? makeDirectories(directory)
        try? writeFileAtomically(fallbackPath(key: key), Array(reason.utf8), durable: false)
        return .driver(reason: reason, announce: true)
    }

    // One line per part, its words apart by NUL (no argument holds one, or a
    // line break: the derivation refuses those).
    private static let header = "hot-driver-plan 1"

    static func encode(_ plan: DriverPlan) -> [UInt8] {
        let parts = [plan.frontend, plan.autolink, plan.clangLink, plan.link, plan.originals, plan.supplementary.map(String.init)]
        return Array(([header] + parts.map { $0.joined(separator: "\0") }).joined(separator: "\n").utf8 + [10])
    }

    static func decode(_ bytes: [UInt8]) -> DriverPlan? {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 8, lines[0] == header, lines[7].isEmpty else { return nil }
        let parts = lines[1...6].map { $0.split(separator: "\0", omittingEmptySubsequences: false).map(String.init) }
        let supplementary = parts[5] == [""] ? [] : parts[5].compactMap { Int($0) }
        guard parts[0].count > 1, parts[1].count > 1, parts[2].count > 1, parts[3].count > 1,
            parts[5] == [""] || supplementary.count == parts[5].count
        else { return nil }
        return DriverPlan(
            frontend: parts[0], autolink: parts[1], clangLink: parts[2], link: parts[3], supplementary: supplementary,
            originals: parts[4])
    }
}
