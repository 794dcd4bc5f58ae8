import HotProject

/// The files `hot adopt` creates: the module, hot.json, and the line of
/// .gitignore that keeps `.hot/` out of git.
enum Scaffold {
    /// The module's one file: one export, the handler of `AppEdit.route`,
    /// typed as the app's router calls it (Hummingbird's `Request`, the
    /// router's context, a `Response`); `imports`: the library target that
    /// declares the context.
    static func module(_ module: String, context: String, imports: [String] = [], framework: Framework = .hummingbird) -> String {
        if framework == .vapor { return vaporModule(module) }
        let imports = (["Hot", "Hummingbird"] + imports).sorted().map { "import \($0)" }.joined(separator: "\n")
        return """
        \(imports)

        // A hot module of this app. `swift build` builds it into the app (its
        // built-in version); `hot deploy` loads a new version of it while the
        // app serves. Edit the handler, run `hot deploy`, and GET \(AppEdit.route)
        // answers with the new code.

        let module = HotModule(
            exports: [
                // GET \(AppEdit.route): its types are the route's, the app's router context among them.
                .function("\(AppEdit.export)") { (request: Request, context: \(context)) async throws -> Response in
                    "Hello from the hot module \(module)!\\n".response(from: request, context: context)
                }
            ])

        """
    }

    /// The module's one file in a Vapor app: the handler of `AppEdit.route`,
    /// typed as Vapor's async route handlers are.
    static func vaporModule(_ module: String) -> String {
        """
        import Hot
        import Vapor

        // A hot module of this app. `swift build` builds it into the app (its
        // built-in version); `hot deploy` loads a new version of it while the
        // app serves. Edit the handler, run `hot deploy`, and GET \(AppEdit.route)
        // answers with the new code.

        let module = HotModule(
            exports: [
                // GET \(AppEdit.route), typed as Vapor's route handlers are.
                .function("\(AppEdit.export)") { (request: Request) async throws -> Response in
                    Response(status: .ok, body: .init(string: "Hello from the hot module \(module)!\\n"))
                }
            ])

        """
    }

    /// The text of a new hot.json for the package in `root`, named `name`,
    /// whose `host` is the package's `product`; nil when its hot.json names
    /// a host already. Read by the one reader of hot.json, so that one
    /// without a host (or with `"host": null`) and one that does not read
    /// are refused with what to do, and never written over.
    static func hotJSON(root: String, name: String, product: String) throws(AdoptError) -> String? {
        let file = ProjectLayout.configFile
        let config: ProjectConfig
        do { config = try ProjectConfig.read(root: root) } catch {
            switch error {
            case .missing: return ProjectConfig(name: name, host: HostConfig(package: ".", product: product)).fileText
            case .badConfig(_, let reason): throw .existing(path: file, reason: "is refused: \(reason); fix it, then run hot adopt again")
            }
        }
        guard config.host == nil else { return nil }
        throw .existing(
            path: file, reason: "exists without \"host\"; add \"host\": {\"package\": \".\", \"product\": \"\(product)\"} to it, then run hot adopt again")
    }

    /// `gitignore` (nil: none yet) with the line `entry`, unless it ignores it already.
    static func ignoring(_ entry: String, in gitignore: String?) -> String {
        let bare = entry.trimmingSlashes
        let text = gitignore ?? ""
        if text.split(separator: "\n").contains(where: { String($0).trimmingSpaces.trimmingSlashes == bare }) { return text }
        return text + (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + entry + "\n"
    }
}

extension String {
    fileprivate var trimmingSlashes: String { String(drop { $0 == "/" }.reversed().drop { $0 == "/" }.reversed()) }
    fileprivate var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\r" }.reversed()) }
}
