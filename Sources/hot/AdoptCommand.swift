import HotAdopt
import HotBuild
import HotPlatform
import HotProject

/// `hot adopt [DIR] [--module NAME] [--hot-package DIR] [--apply]`.
let adoptCommand = Command(
    name: "adopt", summary: "make an existing Hummingbird or Vapor app's package a hot host (shows the diff; --apply writes it)",
    usage: "adopt [DIR] [--module NAME] [--hot-package DIR] [--apply]",
    details: """
        Shows, as a unified diff, what makes the SwiftPM package in DIR (default: the
        current folder), whose executable target serves with Hummingbird 2 or Vapor 4,
        a Hot host, and with --apply writes it:

          Package.swift   Hot's package as a dependency (by path, with the Hummingbird
                          or the Vapor trait); on the app's executable target Hot's
                          products (HotNode, HotLifecycle and HotHummingbird; or
                          HotNode and HotVapor), the module's target, and
                          -Xlinker --export-dynamic; the module as a target of the package,
                          built into the app (its built-in version)
          main            TrialLoad.runIfRequested() first (main.swift, or the @main
                          type's main())
          the node        Hummingbird: started where the Application is made, before
                          the server, and run as one of its services; Vapor: made in
                          configure(_ app: Application) and handed to app.lifecycle
          a route         GET /hot, answered by the module
          modules/NAME/   the module: one export, the route's handler, typed as the
                          app's routes are (with the router's request context)
          hot.json        the project, its "host" naming the app's executable product
          .gitignore      .hot/

        A package of another shape is refused in one line naming what was looked for,
        and nothing is written; with --apply every file is written to a temporary name
        first and renamed only once all are. Run on an adopted package it says there
        is nothing to do. --module names the module (default: routes); --hot-package
        is Hot's package folder, found as `hot init --template hummingbird` finds it.
        A package not yet in a git repository is told to run `git init` first: hot
        build and hot deploy find what changed through git.
        """,
    options: [.module, .hotPackage, .apply],
    arguments: 0...1, argumentValues: [.directories]
) { (args) throws(CommandError) in
    let given = absolutePath(args.positionals.first ?? ".")
    // The folder's own name, not `.`, names the project.
    let dir = realPath(given) ?? given
    let module = args.value(.module) ?? "routes"
    let hotPackage = try hotPackageDirectory(given: args.value(.hotPackage))
    let name = projectName(for: dir)
    func plan() throws(CommandError) -> Adoption {
        do { return try Adoption.plan(root: dir, module: module, hotPackage: hotPackage, name: name) } catch { throw .failed(error.description) }
    }
    var adoption = try plan()
    guard !adoption.changes.isEmpty else {
        print("\(dir) is a hot host already (module \(module)): nothing to do")
        return
    }
    guard args.has(.apply) else {
        print(adoption.diff, terminator: "")
        printError("nothing written: run `hot adopt --apply` to make these changes")
        return
    }
    // Planned again under the project's lock: a second `hot adopt` at the
    // same time waits, then finds nothing left to do.
    let lock = try lockProject(ProjectLayout(root: dir, name: name))
    defer { lock.release() }
    adoption = try plan()
    guard !adoption.changes.isEmpty else {
        print("\(dir) is a hot host already (module \(module)): nothing to do")
        return
    }
    print(adoption.diff, terminator: "")
    do throws(AdoptError) { try adoption.apply(root: dir) } catch { throw .failed(error.description) }
    print("adopted: \(adoption.changes.count) files written; next: swift build --product \(adoption.product), run it, GET /hot; after an edit of modules/\(module), hot deploy")
    if (try? Repository.discover(from: dir)) == nil {
        printError("note: \(dir) is not inside a git repository, which hot build and hot deploy read to find what changed: run `git init` there first")
    }
}

extension Option {
    static let module = Option("--module", .value, valueName: "NAME", help: "the hot module to make (default: routes)")
    static let apply = Option("--apply", .flag, help: "write the changes (without it: only show them)")
}
