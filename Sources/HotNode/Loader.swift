#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform
import Logging

/// The real `ModuleLoader`: opens module objects with `dlopen` and never
/// closes one: a Swift image's conformance records stay registered with the
/// runtime, and unmapping them crashes the next dynamic cast
/// (docs/ARCHITECTURE.md, "Fact: never-close"). Purge is therefore logical.
final class Loader: ModuleLoader {
    /// The executable that runs trial loads (`--check FILE`); nil: none.
    private let trialExecutable: String?
    /// Objects whose trial passed, by path, size, modification time and
    /// inode: a deploy checks while staging and need not check again. Each
    /// with the export types its trial said (nil: not known).
    private let trialPassed = Locked<[String: [String: ExportType]?]>([:])
    /// How long a trial may take before its child is killed and the object refused.
    private let trialTimeout: Duration
    /// Trial children running at once. Trials run outside the load lock, so
    /// without a cap every authenticated connection could start one; a trial
    /// that finds no slot waits for one at most `trialTimeout`.
    private let trialSlots = CountingSemaphore(units: Loader.maxConcurrentTrials)
    /// How many trial children may run at once.
    static let maxConcurrentTrials = 4
    /// The trial child started ahead of time; nil when trials start theirs
    /// on the spot (no trials, or `HOT_TRIAL_SPARE=0`).
    private let spare: TrialSpare?
    /// Where a passed trial says how long it took, and in which child.
    private let logger: Logger?
    /// Whether an object built against another build of the host is
    /// refused; not in an in-process node (`NodeHost.loadForTesting`).
    private let checksHost: Bool

    /// A loader whose trials run `trialExecutable` with `HOT_TRIAL_LOAD` for
    /// for at most `trialTimeout`, or that runs none; with `spare`, each
    /// trial finds its child started ahead of time.
    init(trialExecutable: String?, trialTimeout: Duration = TrialLoad.defaultTimeout, spare: Bool = TrialSpare.isEnabled,
         checksHost: Bool = true, logger: Logger? = nil) {
        self.trialExecutable = trialExecutable
        self.checksHost = checksHost
        self.trialTimeout = trialTimeout
        self.logger = logger
        self.spare = spare ? trialExecutable.map { TrialSpare(executable: $0, readyTimeout: trialTimeout, logger: logger) } : nil
    }

    /// How long after a trial that no load follows the spare is replaced.
    static let refillDelay: Duration = .seconds(2)

    /// Starts the spare trial child, so that even the first trial finds it.
    func prepareTrials() { spare?.prepare() }

    /// Kills and reaps the spare trial child, and starts no more.
    func closeTrials() { spare?.close() }

    /// A `dlopen` handle: an opaque token, never closed, so never stale.
    private struct Handle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }

    /// `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)`, then the descriptor
    /// checks; no Swift code of the module runs here.
    func open(_ path: String) throws(LoadError) -> ModuleImage {
        if let module = BuiltinModules.module(of: path) { return try openBuiltin(module, path: path) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .noFile(path) }
        guard Self.isELF(path) else { throw .badFile(path: path, reason: "not an ELF shared object") }
        _ = dlerror()
        guard let pointer = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = Self.lastDLError()
            // A module built for another host usually fails here, on a symbol
            // of that host this executable lacks; its descriptor says why.
            if checksHost, let descriptor = Self.embeddedDescriptor(path), let host = descriptor.host, host != HostFingerprint.current {
                throw .hostMismatch(module: descriptor.name, expected: HostFingerprint.current, found: host)
            }
            throw .badFile(path: path, reason: Self.explain(message))
        }
        let handle = Handle(pointer: pointer)
        guard let describe = Self.symbol(pointer, "hot_module_descriptor") else {
            throw .badFile(path: path, reason: "no hot_module_descriptor symbol (not built by hot build)")
        }
        typealias DescriptorFunction = @convention(c) () -> UnsafePointer<CChar>
        let text = String(cString: unsafeBitCast(describe, to: DescriptorFunction.self)())
        guard let descriptor = ModuleDescriptor(parsing: text) else {
            throw .badFile(path: path, reason: "unreadable module descriptor")
        }
        if descriptor.abi != HotSDK.abiVersion {
            throw .mismatch(field: "ABI version", expected: "\(HotSDK.abiVersion)", found: "\(descriptor.abi)")
        }
        if descriptor.sdk != HotSDK.fingerprint {
            throw .mismatch(field: "SDK", expected: HotSDK.fingerprint, found: descriptor.sdk)
        }
        if descriptor.compiler != HotSDK.compiler {
            throw .mismatch(field: "compiler", expected: HotSDK.compiler, found: descriptor.compiler)
        }
        // A module compiled against a host binds to that build's symbols and
        // type layouts; any other executable, hotnode included, may lack
        // them or lay them out otherwise (docs/ARCHITECTURE.md, "Host modules").
        // Not in an in-process node: its test bundle is another build that
        // links the same code, and only the test itself loads there.
        if checksHost, let host = descriptor.host, host != HostFingerprint.current {
            throw .hostMismatch(module: descriptor.name, expected: HostFingerprint.current, found: host)
        }
        // The object is mapped: the spare a trial used may be replaced now.
        spare?.prepare()
        return ModuleImage(descriptor: descriptor, path: path, bytes: Int(info.st_size)) { () throws(LoadError) in
            guard let entry = Self.symbol(handle.pointer, "hot_module_entry") else {
                throw .badFile(path: path, reason: "no hot_module_entry symbol")
            }
            return try Self.enter(entry, path: path)
        }
    }

    /// A built-in version: its descriptor and entry found by `dlsym` in
    /// the process itself. No SDK, compiler or host check: it is code of
    /// the executable that runs, compiled with the rest of it.
    private func openBuiltin(_ module: String, path: String) throws(LoadError) -> ModuleImage {
        guard let descriptor = Self.builtinDescriptor(module) else {
            throw .noFile("\(module) has no built-in version in this executable (\(ModuleDescriptor.builtinDescriptorPrefix)\(module))")
        }
        guard descriptor.name == module, descriptor.version == 0 else {
            throw .badFile(path: path, reason: "its descriptor names \(descriptor.name) v\(descriptor.version), not \(module) v0")
        }
        return ModuleImage(descriptor: descriptor, path: path, bytes: 0) { () throws(LoadError) in
            guard let entry = Self.symbol(nil, ModuleDescriptor.builtinEntryPrefix + module) else {
                throw .badFile(path: path, reason: "no \(ModuleDescriptor.builtinEntryPrefix)\(module) symbol")
            }
            return try Self.enter(entry, path: path)
        }
    }

    /// The descriptor of `module`'s built-in version; nil when this process links none.
    private static func builtinDescriptor(_ module: String) -> ModuleDescriptor? {
        // A nil handle is RTLD_DEFAULT: the executable and what it linked.
        guard let describe = symbol(nil, ModuleDescriptor.builtinDescriptorPrefix + module) else { return nil }
        typealias DescriptorFunction = @convention(c) () -> UnsafePointer<CChar>
        return ModuleDescriptor(parsing: String(cString: unsafeBitCast(describe, to: DescriptorFunction.self)()))
    }

    func builtins() -> [String] { BuiltinModules.linked }

    func descriptor(of path: String) -> ModuleDescriptor? {
        if let module = BuiltinModules.module(of: path) { return Self.builtinDescriptor(module) }
        return Self.embeddedDescriptor(path)
    }

    /// Takes every trial slot, so that no trial runs, then ends the spare.
    func suspendTrials(until deadline: ContinuousClock.Instant) -> Bool {
        var taken = 0
        while taken < Self.maxConcurrentTrials {
            guard trialSlots.wait(until: deadline) else {
                for _ in 0..<taken { trialSlots.signal() }
                return false
            }
            taken += 1
        }
        spare?.close()
        return true
    }

    func resumeTrials() {
        for _ in 0..<Self.maxConcurrentTrials { trialSlots.signal() }
        spare?.reopen()
    }

    func trust(_ paths: [String]) {
        let identities = paths.compactMap(Self.identity)
        trialPassed.withLock { passed in
            for identity in identities where passed[identity] == nil { passed[identity] = .some(nil) }
        }
    }

    /// What a passed trial is remembered by: the path and what would change
    /// if the file did (size, modification time, inode).
    private static func identity(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
    }

    /// Runs the trial load of an object unless it passed one already; the
    /// types of its exports, as the trial said them (nil: not known).
    @discardableResult
    func trial(_ path: String) throws(LoadError) -> [String: ExportType]? {
        // A built-in version already runs in this process: nothing to try,
        // and the load's own check of the handles' types applies.
        if BuiltinModules.module(of: path) != nil { return nil }
        guard let identity = Self.identity(path) else { throw .noFile(lastPathComponent(path)) }
        guard let trialExecutable else { return nil }
        if let passed = trialPassed.withLock({ $0[identity] }) { return passed }
        guard trialSlots.wait(until: ContinuousClock.now + trialTimeout) else {
            throw .trialFailed(
                path: path, reason: "\(Self.maxConcurrentTrials) other trial loads kept every slot for \(trialTimeout.shortDescription); try again",
                code: .badFile)
        }
        defer { trialSlots.signal() }
        // After the load this trial precedes (`open` asks then), not during
        // the trial or the load: a fresh spare's start-up must not compete
        // with them for the processor.
        defer { spare?.prepare(after: Self.refillDelay) }
        let started = ContinuousClock.now
        let (inSpare, exports) = try TrialLoad.check(path, executable: trialExecutable, timeout: trialTimeout, spare: spare)
        trialPassed.withLock { $0[identity] = .some(exports) }
        let elapsed = ContinuousClock.now - started
        logger?.info("trial load of \(lastPathComponent(path)) passed in \(elapsed.shortDescription), \(inSpare ? "in the spare child" : "in a child started for it")")
        return exports
    }

    /// Runs the module's entry: from here on the module's own code runs.
    private static func enter(_ entry: UnsafeMutableRawPointer, path: String) throws(LoadError) -> HotModule {
        typealias EntryFunction = @convention(c) () -> UnsafeMutableRawPointer
        let pointer = unsafeBitCast(entry, to: EntryFunction.self)()
        // A module linked against its own copy of the SDK hands back an object
        // whose class is not this node's ModuleEntry; casting it would crash
        // later, so compare the isa pointer first (docs/ARCHITECTURE.md,
        // "Fact: one-SDK").
        let isa = pointer.load(as: UnsafeRawPointer.self)
        let expected = unsafeBitCast(ModuleEntry.self as AnyClass, to: UnsafeRawPointer.self)
        guard isa == expected else {
            throw .badFile(
                path: path,
                reason: "the module carries its own copy of the Hot SDK; build it with hot build, which compiles against the node's SDK without linking it")
        }
        return ModuleEntry.receive(pointer).module
    }

    private static func symbol(_ handle: UnsafeMutableRawPointer?, _ name: String) -> UnsafeMutableRawPointer? {
        _ = dlerror()
        return dlsym(handle, name)
    }

    private static func lastDLError() -> String {
        guard let message = dlerror() else { return "dlopen failed" }
        return String(cString: message)
    }

    /// Turns the one dlopen failure a misbuilt host causes into advice.
    private static func explain(_ message: String) -> String {
        if message.contains("undefined symbol: $s3Hot") {
            return message
                + " (this node does not export the Hot SDK: link it with -Xlinker --export-dynamic)"
        }
        if message.contains("Cannot allocate memory"), let (mappings, limit) = mappingsAndLimit(), mappings + 64 >= limit {
            // Every version stays mapped (docs/ARCHITECTURE.md, "Fact:
            // never-close"): a node that loaded enough of them meets the
            // kernel's ceiling, and dlopen says only ENOMEM.
            return message
                + " (this process has \(mappings) memory mappings and vm.max_map_count is \(limit): every version loaded"
                + " stays mapped until the node compacts: run `hot compact`, or raise vm.max_map_count)"
        }
        return message
    }

    /// The lines of /proc/self/maps and vm.max_map_count, when both read.
    private static func mappingsAndLimit() -> (Int, Int)? {
        guard let maps = readFile("/proc/self/maps"), let limit = readFile("/proc/sys/vm/max_map_count"),
            let value = Int(String(decoding: limit, as: UTF8.self).filter { $0.isNumber })
        else { return nil }
        return (maps.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }, value)
    }

    /// The descriptor text as it lies in the object's read-only data, found
    /// without opening it: for explaining a `dlopen` that failed.
    private static func embeddedDescriptor(_ path: String) -> ModuleDescriptor? {
        guard let bytes = readFile(path) else { return nil }
        let header = Array("hot-module\nabi ".utf8)
        var start = 0
        while start + header.count <= bytes.count {
            guard let first = bytes[start...].firstIndex(of: header[0]) else { return nil }
            if first + header.count <= bytes.count, bytes[first..<first + header.count].elementsEqual(header) {
                let end = bytes[first...].firstIndex(of: 0) ?? bytes.count
                return ModuleDescriptor(parsing: String(decoding: bytes[first..<end], as: UTF8.self))
            }
            start = first + 1
        }
        return nil
    }

    private static func isELF(_ path: String) -> Bool {
        guard let file = try? Descriptor("open \(path)", { Glibc.open(path, O_RDONLY | O_CLOEXEC) }) else { return false }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { buffer in
            try? SystemError.retrying("read \(path)") { read(file.number, buffer.baseAddress, 4) }
        }
        return n == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
    }
}
