#if canImport(Glibc)
import Glibc
#endif
import Hot
import HotPlatform

/// The compiler and SDK a build uses.
public struct Toolchain: Sendable {
    /// The swiftc executable.
    public let swiftc: String
    /// Its version, e.g. `6.3.1`.
    public let version: String
    /// The folder holding `Hot.swiftmodule`, compiled against but never linked.
    public let sdkModules: String
    /// swiftc's path, size and modification time: which compiler this is,
    /// without running it (a key of the version cache and of `DriverPlan`'s).
    public let stamp: String

    /// A toolchain from its parts.
    public init(swiftc: String, version: String, sdkModules: String, stamp: String = "") {
        self.swiftc = swiftc
        self.version = version
        self.sdkModules = sdkModules
        self.stamp = stamp
    }

    /// Why no usable toolchain was found.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case noSwiftc
        case unknownVersion(swiftc: String, output: String)
        case versionMismatch(swiftc: String, found: String, expected: String)
        case noSDK(searched: [String])

        public var description: String {
            switch self {
            case .noSwiftc: "swiftc not found on PATH; install Swift or set HOT_SWIFTC to its path"
            case .unknownVersion(let swiftc, let output): "cannot read the version of \(swiftc): \(output)"
            case .versionMismatch(let swiftc, let found, let expected):
                "\(swiftc) is Swift \(found), but hot and its nodes were built with Swift \(expected); put the same toolchain first on PATH or set HOT_SWIFTC"
            case .noSDK(let searched):
                "Hot.swiftmodule not found (looked in \(searched.joined(separator: ", "))); reinstall hot or set HOT_SDK to its folder"
            }
        }
    }

    /// Locates swiftc and the SDK; the swiftc version is cached in `cacheFile`
    /// by the compiler's path, size and time, so a build does not spawn
    /// `swiftc --version` each time.
    public static func locate(cacheFile: String?) throws(Failure) -> Toolchain {
        let environment = getenv("HOT_SWIFTC").map { String(cString: $0) }
        // Run it by the name found, not the resolved one: swiftc is a link to
        // swift-driver, which picks its mode from argv[0].
        guard let swiftc = findExecutable(environment ?? "swiftc") else { throw .noSwiftc }
        var info = stat()
        stat(swiftc, &info)
        let stamp = "\(swiftc) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        var version: String?
        if let cacheFile, let cached = readFile(cacheFile) {
            let lines = String(decoding: cached, as: UTF8.self).split(separator: "\n").map(String.init)
            if lines.count == 2, lines[0] == stamp { version = lines[1] }
        }
        if version == nil {
            let parsed = try askVersion(swiftc)
            version = parsed
            if let cacheFile {
                try? makeDirectories(parentDirectory(cacheFile), mode: 0o700)
                try? writeFileAtomically(cacheFile, Array("\(stamp)\n\(parsed)\n".utf8))
            }
        }
        let resolved = version ?? ""
        guard resolved == HotSDK.compiler else {
            throw .versionMismatch(swiftc: swiftc, found: resolved, expected: HotSDK.compiler)
        }
        return Toolchain(swiftc: swiftc, version: resolved, sdkModules: try locateSDK(), stamp: stamp)
    }

    /// The folder of `Hot.swiftmodule`: `HOT_SDK`, else beside this executable
    /// (a SwiftPM build folder), else `../lib/hot` (an installed tree).
    static func locateSDK() throws(Failure) -> String {
        var candidates: [String] = []
        if let sdk = getenv("HOT_SDK") { candidates.append(String(cString: sdk)) }
        let exe = executableDirectory()
        candidates += [exe + "/Modules", exe, parentDirectory(exe) + "/lib/hot"]
        for dir in candidates where fileExists(dir + "/Hot.swiftmodule") { return dir }
        throw .noSDK(searched: candidates)
    }

    /// The most of `--version`'s output kept: the version line is the first
    /// of a few; a compiler that prints more is not one this reads.
    static let versionOutputLimit = 4096
    /// How long `--version` may take: it reads nothing and compiles nothing.
    static let versionTimeout: Duration = .seconds(30)

    /// Runs `swiftc -frontend --version` and reads its version, keeping at
    /// most `versionOutputLimit` bytes of what it prints.
    static func askVersion(_ swiftc: String) throws(Failure) -> String {
        let capture: Subprocess.Capture
        do {
            // Asked of the frontend: the driver's own `--version` leaves an
            // empty /tmp/TemporaryDirectory.* behind each time it runs.
            capture = try Subprocess.spawn(swiftc, ["-frontend", "--version"])
                .waitCapturing(limit: versionOutputLimit, timeout: versionTimeout)
        } catch {
            throw .unknownVersion(swiftc: swiftc, output: "\(error)")
        }
        if capture.timedOut { throw .unknownVersion(swiftc: swiftc, output: "no answer within \(versionTimeout.shortDescription)") }
        guard let parsed = parseVersion(capture.output) else { throw .unknownVersion(swiftc: swiftc, output: capture.output) }
        return parsed
    }

    static func parseVersion(_ output: String) -> String? {
        guard let range = output.firstRange(of: "Swift version ") else { return nil }
        let rest = output[range.upperBound...]
        let version = rest.prefix { $0.isNumber || $0 == "." }
        return version.isEmpty ? nil : String(version)
    }
}

extension Toolchain {
    /// Options that link with the toolchain's own lld, laid out as gold lays
    /// a module out; none when the toolchain has no `ld.lld` beside swiftc
    /// (clang looks there first), and the driver's default, gold, links.
    ///
    /// lld linked a host patch in about 30 ms of CPU where gold took 55, most
    /// of it reading the libraries the patch's imports name (Foundation's
    /// among them). By default lld gives read-only data a segment of its own
    /// and starts the writable one mid-page, so `.bss` takes an anonymous
    /// page: 5 mappings a version. `--no-rosegment` puts read-only data with
    /// the code, as gold does, and `-z separate-loadable-segments` starts each
    /// segment on a page of its own, so data and `.bss` share one: the same 3
    /// mappings and the same bytes mapped as gold's (docs/ARCHITECTURE.md,
    /// "Fact: never-close").
    public var lldFlags: [String] {
        let directory = parentDirectory(realPath(swiftc) ?? swiftc)
        guard access(directory + "/ld.lld", X_OK) == 0 else { return [] }
        return ["-use-ld=lld", "-Xlinker", "--no-rosegment", "-Xlinker", "-z", "-Xlinker", "separate-loadable-segments"]
    }
}

/// The folder of the running executable (from /proc/self/exe).
public func executableDirectory() -> String {
    parentDirectory(realPath("/proc/self/exe") ?? CommandLine.arguments[0])
}
