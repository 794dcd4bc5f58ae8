#if canImport(Glibc)
import Glibc
#endif
import HotPlatform
import HotProject

/// Which sources changed, told by inotify instead of found by a walk of the
/// tree (docs/ARCHITECTURE.md, "hot watch"): the modules folder, every
/// folder of every module, and the include folders are watched, and each
/// event names its module by the folder it came from.
///
/// Editors save in two ways, and both end in an event on a `.swift` name:
/// writing in place ends with IN_CLOSE_WRITE; writing a new file and renaming
/// it over the old (vim, VS Code, JetBrains) ends with IN_MOVED_TO. A folder
/// made, removed or renamed is a module added or removed, or sources moved.
public final class SourceWatcher {
    /// What a batch of events changed.
    public struct Changes: Sendable, Equatable {
        /// Modules whose folder saw a source or folder event (present or gone).
        public var modules: Set<String> = []
        /// An include folder changed: every module is affected.
        public var includes = false
        /// The kernel dropped events (its queue overflowed): anything may have changed.
        public var overflowed = false
        /// hot.json was written: the watch runs on the settings it read at start.
        public var configuration = false
        /// A source of the host's own modules was saved (`watchHost`).
        public var host = false

        public init(modules: Set<String> = [], includes: Bool = false, overflowed: Bool = false) {
            self.modules = modules
            self.includes = includes
            self.overflowed = overflowed
        }

        public var isEmpty: Bool { modules.isEmpty && !includes && !overflowed && !configuration && !host }

        mutating func merge(_ other: Changes) {
            modules.formUnion(other.modules)
            includes = includes || other.includes
            overflowed = overflowed || other.overflowed
            configuration = configuration || other.configuration
            host = host || other.host
        }
    }

    /// What `next` returns.
    public enum Wake: Sendable, Equatable {
        /// Sources changed; saves that came close together are one batch.
        case changed(Changes)
        /// Nothing changed within the wait.
        case idle
        /// SIGINT or SIGTERM arrived.
        case interrupted
    }

    private let project: Project
    private let inotify: Inotify
    /// Watched folders, project-relative, by watch number.
    private var folders: [Int32: String] = [:]
    /// The watch on the project's folder, for hot.json alone.
    private var rootWatch: Int32 = -1
    /// The folders of the host's own sources (absolute), by watch number.
    private var hostFolders: [Int32: String] = [:]
    private let interruption: Interruption
    /// Changes read while a build ran (`supersedes`), for the next `pending`.
    private var held = Changes()

    /// Watches the project's modules and include folders. SIGINT and SIGTERM
    /// are caught from here on (a build inside cleans up, then `next` says
    /// `.interrupted`), until `stop`.
    public init(project: Project) throws(SystemError) {
        self.project = project
        inotify = try Inotify()
        interruption = Interruption.install()
        do {
            rootWatch = try inotify.watch(project.root, mask: UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) | UInt32(IN_ONLYDIR))
            try watchTree(project.config.modules)
            for folder in project.config.include { try watchTree(folder) }
        } catch {
            interruption.uninstall()
            throw error
        }
    }

    /// Watches the folders of the host's own sources too (absolute paths of
    /// source files): a save of one is `Changes.host`, which `hot watch`
    /// patches into the running host (docs/ARCHITECTURE.md, "Patching the host").
    public func watchHost(_ sources: [String]) throws(SystemError) {
        for folder in Set(sources.map(parentDirectory)).sorted() where !hostFolders.values.contains(folder) {
            do {
                hostFolders[try inotify.watch(folder)] = folder
            } catch where error.errno == .noSuchFileOrDirectory || error.errno == .notDirectory {
                continue
            }
        }
    }

    /// Puts back the signal handlers; the watches end with the object.
    public func stop() { interruption.uninstall() }

    /// Whether SIGINT or SIGTERM arrived.
    public var interrupted: Bool { Interruption.happened }

    /// How many folders are watched.
    public var watchedFolders: Int { folders.count }

    /// The longest one read of the sources waits: a signal that lands
    /// between the check of the flag and the poll does not interrupt the
    /// poll, so it is seen at the next check, this soon.
    static let interruptionCheck: Duration = .milliseconds(500)

    /// Waits up to `timeout` for a change. After the first event it keeps
    /// reading until `quiet` passes with none (at most `settle` in all), so
    /// that a burst of saves is one batch.
    public func next(
        timeout: Duration, quiet: Duration = .milliseconds(10), settle: Duration = .seconds(1)
    ) throws(SystemError) -> Wake {
        let deadline = ContinuousClock.now + timeout
        var changes = Changes()
        while changes.isEmpty {
            if interrupted { return .interrupted }
            let left = deadline.timeLeft
            guard left > .zero else { return .idle }
            changes.merge(try take(try inotify.read(timeout: min(left, Self.interruptionCheck))))
        }
        let settled = ContinuousClock.now + settle
        while ContinuousClock.now < settled {
            if interrupted { return .interrupted }
            let events = try inotify.read(timeout: min(quiet, settled.timeLeft))
            if events.isEmpty { break }
            changes.merge(try take(events))
        }
        return .changed(changes)
    }

    /// The changes whose events are queued now, without waiting, and those
    /// a build took while it ran: saves made during the build.
    public func pending() throws(SystemError) -> Changes {
        var changes = held
        held = Changes()
        while true {
            let events = try inotify.read(timeout: .zero)
            if events.isEmpty { return changes }
            changes.merge(try take(events))
        }
    }

    /// Turns events into changes, and follows folders made or removed.
    private func take(_ events: [Inotify.Event]) throws(SystemError) -> Changes {
        var changes = Changes()
        let modulesRoot = project.config.modules
        for event in events {
            if event.has(UInt32(IN_Q_OVERFLOW)) {
                // Events were lost: watch every folder again and let the caller look at everything.
                changes.overflowed = true
                changes.host = !hostFolders.isEmpty
                try watchTree(modulesRoot)
                for folder in project.config.include { try watchTree(folder) }
                continue
            }
            if hostFolders[event.watch] != nil {
                if event.has(UInt32(IN_IGNORED)) {
                    hostFolders[event.watch] = nil
                } else if event.name.isEmpty || (!event.has(UInt32(IN_ISDIR)) && Project.isSourceFile(event.name)) {
                    changes.host = true
                }
                continue
            }
            if event.watch == rootWatch {
                if event.name == ProjectLayout.configFile { changes.configuration = true }
                continue
            }
            guard let folder = folders[event.watch] else { continue }
            if event.has(UInt32(IN_IGNORED)) {
                folders[event.watch] = nil
                continue
            }
            let isFolder = event.has(UInt32(IN_ISDIR))
            if !event.name.isEmpty {
                // A hidden file or folder (an editor's swap file, say) is never a source.
                guard isFolder ? Project.isSearchedFolder(event.name) : Project.isSourceFile(event.name) else { continue }
            }
            let path = event.name.isEmpty ? folder : folder + "/" + event.name
            if isFolder && event.has(UInt32(IN_MOVED_FROM)) {
                // Its watches still follow it wherever it went: drop them.
                unwatchTree(path)
            }
            if isFolder && event.has(UInt32(IN_CREATE | IN_MOVED_TO)) {
                // Watched before it is listed, so nothing written into it is missed.
                try watchTree(path)
            }
            if let module = module(of: path) {
                changes.modules.insert(module)
            } else if project.config.include.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                changes.includes = true
            }
        }
        return changes
    }

    /// The module a project-relative path belongs to, if it lies in a module folder.
    private func module(of path: String) -> String? {
        let prefix = project.config.modules + "/"
        guard path.hasPrefix(prefix) else { return nil }
        let name = path.dropFirst(prefix.count).prefix { $0 != "/" }
        return name.isEmpty ? nil : String(name)
    }

    /// Stops watching a folder and every folder under it.
    private func unwatchTree(_ relative: String) {
        for (watch, folder) in folders where folder == relative || folder.hasPrefix(relative + "/") {
            inotify.unwatch(watch)
            folders[watch] = nil
        }
    }

    /// Watches a folder and every searched folder under it.
    private func watchTree(_ relative: String) throws(SystemError) {
        let absolute = project.root + "/" + relative
        guard isDirectory(absolute) else { return }
        let watch: Int32
        do {
            watch = try inotify.watch(absolute)
        } catch where error.errno == .noSuchFileOrDirectory || error.errno == .notDirectory {
            return  // gone again before it could be watched: its removal is an event of its parent
        }
        folders[watch] = relative
        for entry in listEntries(absolute) where entry.isDirectory && Project.isSearchedFolder(entry.name) {
            try watchTree(relative + "/" + entry.name)
        }
    }
}

extension SourceWatcher: BuildSupersession {
    public var events: Inotify { inotify }

    /// Reads what came during a build and keeps it for `pending`; whether
    /// any of `modules` (or an include folder) changed again.
    public func supersedes(_ modules: [String]) -> Bool {
        let news: Changes
        do { news = try pending() } catch { return false }
        held = news
        return news.includes || news.overflowed || !news.modules.isDisjoint(with: modules)
    }
}
