import Hot
import HotPlatform

/// hot.json: the one schema of a project's settings, read by `hot` and by
/// every node of the project alike. A field it does not take is refused
/// here, at every level, in one line that names it.
public struct ProjectConfig: Codable, Sendable, Equatable {
    /// The project's name; the local node's default name.
    public var name: String
    /// The folder holding one folder per hot module, relative to the project.
    public var modules: String
    /// Folders of `.swift` files compiled into every module.
    public var include: [String]
    /// Modules that refuse reload unless forced.
    public var sticky: [String]
    /// Extra swiftc flags for every module.
    public var swiftcFlags: [String]
    /// Named nodes: name → address.
    public var nodes: [String: String]
    /// The server the modules run in, when it is not `hotnode`.
    public var host: HostConfig?
    /// When a node `hot start` starts compacts by itself; nil: never.
    public var compact: CompactionThreshold?
    /// How `hot build` treats what its checks find; nil: the defaults (warnings, nothing allowed).
    public var checks: CheckSettings?
    /// The fleet coordinated through etcd that a server embedding the
    /// project's node follows; nil: none (docs/FLEETS.md).
    public var fleet: FleetSettings?

    /// A configuration with the defaults `hot init` writes.
    public init(name: String, modules: String = "modules", include: [String] = [], sticky: [String] = [],
                swiftcFlags: [String] = [], nodes: [String: String] = [:], host: HostConfig? = nil, compact: CompactionThreshold? = nil,
                checks: CheckSettings? = nil, fleet: FleetSettings? = nil) {
        self.name = name
        self.modules = modules
        self.include = include
        self.sticky = sticky
        self.swiftcFlags = swiftcFlags
        self.nodes = nodes
        self.host = host
        self.compact = compact
        self.checks = checks
        self.fleet = fleet
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, modules, include, sticky, swiftcFlags, nodes, host, compact, checks, fleet }

    /// Reads a configuration; every field but `name` may be left out, and
    /// one it does not take (a misspelt `stikcy`, ignored otherwise) is refused.
    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownFields(in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        modules = try c.decodeIfPresent(String.self, forKey: .modules) ?? "modules"
        include = try c.decodeIfPresent([String].self, forKey: .include) ?? []
        sticky = try c.decodeIfPresent([String].self, forKey: .sticky) ?? []
        swiftcFlags = try c.decodeIfPresent([String].self, forKey: .swiftcFlags) ?? []
        nodes = try c.decodeIfPresent([String: String].self, forKey: .nodes) ?? [:]
        host = try c.decodeIfPresent(HostConfig.self, forKey: .host)
        compact = try c.decodeIfPresent(CompactionThreshold.self, forKey: .compact)
        checks = try c.decodeIfPresent(CheckSettings.self, forKey: .checks)
        fleet = try c.decodeIfPresent(FleetSettings.self, forKey: .fleet)
    }

    /// Why a project's hot.json could not be read.
    public enum ReadError: Error, Sendable, Equatable {
        /// No file at `path`.
        case missing(path: String)
        /// The file cannot be read, is not JSON, or a field is missing, of
        /// the wrong type or not taken; `reason` is one line.
        case badConfig(path: String, reason: String)
    }

    /// Reads and checks the hot.json of the project in `root`: the one
    /// reader, for `hot` (`Project.load`) and a project's node
    /// (`NodeConfiguration.project`) alike.
    public static func read(root: String) throws(ReadError) -> ProjectConfig {
        let path = root + "/" + ProjectLayout.configFile
        guard let bytes = readFile(path) else {
            throw fileExists(path) ? .badConfig(path: path, reason: "cannot be read") : .missing(path: path)
        }
        let config: ProjectConfig
        do {
            config = try TermDecoder().decode(ProjectConfig.self, from: try JSON.parse(bytes))
        } catch {
            throw .badConfig(path: path, reason: "\(error)")
        }
        if let problem = config.problem { throw .badConfig(path: path, reason: problem) }
        return config
    }

    /// The configuration as hot.json holds it: every field, keys sorted,
    /// indented by two spaces, with a final newline; `read(root:)` reads it
    /// back as this value.
    public var fileText: String {
        let term: Term
        do { term = try TermEncoder().encode(self) } catch {
            // Strings, lists and maps of them always encode: a failure is a bug here.
            preconditionFailure("hot.json's schema does not encode: \(error)")
        }
        return JSON.render(term, pretty: true) + "\n"
    }

    /// What is wrong with fields that decoded, as one line; nil when nothing is.
    public var problem: String? {
        if name.isEmpty { return "\"name\" is empty" }
        if let host, host.package.isEmpty || host.product.isEmpty { return "\"host\" needs a \"package\" folder and a \"product\"" }
        return compact?.problem ?? fleet?.problem
    }
}

extension ProjectConfig: SettingsObject {
    typealias Field = CodingKeys
    static let place = ProjectLayout.configFile
}

extension HostConfig: SettingsObject {
    typealias Field = CodingKeys
    static let place = "\"host\""
}

/// `hot.json`'s `host`: the SwiftPM package and executable product the
/// modules are loaded into. Modules compile against that build of it and
/// may import what it links (docs/ARCHITECTURE.md, "Host modules").
public struct HostConfig: Codable, Sendable, Equatable {
    /// SwiftPM's build configuration.
    public enum Configuration: String, Codable, Sendable { case debug, release }
    /// The package folder, relative to the project.
    public var package: String
    /// The executable product that runs the node.
    public var product: String
    /// The configuration the host is built in; debug unless said.
    public var configuration: Configuration

    /// A host from its fields.
    public init(package: String, product: String, configuration: Configuration = .debug) {
        self.package = package
        self.product = product
        self.configuration = configuration
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case package, product, configuration }

    /// Reads a host; `configuration` may be left out, and a field it does not take is refused.
    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownFields(in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        package = try c.decode(String.self, forKey: .package)
        product = try c.decode(String.self, forKey: .product)
        configuration = try c.decodeIfPresent(Configuration.self, forKey: .configuration) ?? .debug
    }
}
