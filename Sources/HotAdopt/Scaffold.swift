/// The files `hot adopt` creates: the module, hot.json, and the line of
/// .gitignore that keeps `.hot/` out of git.
enum Scaffold {
    /// The module's one file: one export, the handler of `AppEdit.route`,
    /// typed as the app's router calls it (Hummingbird's `Request`, the
    /// router's context, a `Response`); `imports`: the library target that
    /// declares the context.
    static func module(_ module: String, context: String, imports: [String] = []) -> String {
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

    /// hot.json, laid out as `hot init` writes it, with `host` naming the app.
    static func hotJSON(name: String, product: String) -> String {
        """
        {
          "name": "\(name)",
          "modules": "modules",
          "include": [],
          "sticky": [],
          "swiftcFlags": [],
          "nodes": {},
          "host": { "package": ".", "product": "\(product)" }
        }

        """
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
