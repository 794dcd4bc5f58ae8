import Hot
import HotPlatform

/// How a module differs.
public struct ModuleChange: Sendable, Equatable {
    /// The kinds `hot changed` reports.
    public enum Kind: String, Sendable {
        case added, modified, deleted, renamed
    }

    /// The module (its new name when renamed).
    public let name: String
    /// How it differs.
    public let kind: Kind
    /// The old name of a renamed module.
    public let from: String?
    /// The files behind the change (project-relative), include folders' files among them.
    public let files: [String]
}

/// What differs, and against what.
public struct ChangeReport: Sendable {
    /// The revision compared with, or nil for the newest built versions.
    public let since: String?
    /// HEAD, or nil before the first commit.
    public let commit: String?
    /// The changed modules, by name.
    public let modules: [ModuleChange]
}

/// Answers which modules changed: against the newest built versions, or
/// against a revision, through libgit2 alone.
public struct ChangeDetector {
    /// The project.
    public let project: Project

    /// A detector for `project`.
    public init(project: Project) { self.project = project }

    /// The modules that differ from `since` (a revision), or from their newest built versions.
    public func changes(since: String?, release: Bool = false) throws(BuildError) -> ChangeReport {
        let workspace = try Workspace(project: project)
        if try workspace.moduleNames().isEmpty && workspace.manifest.current.isEmpty {
            throw .project(.noModules(path: project.config.modules))
        }
        let modules: [ModuleChange]
        if let since {
            modules = try changes(workspace, since: since)
        } else {
            modules = try changesAgainstBuilds(workspace, release: release)
        }
        return ChangeReport(since: since, commit: workspace.source.head, modules: modules)
    }

    /// Against the manifest: a module whose key is not its current build's.
    func changesAgainstBuilds(_ workspace: Workspace, release: Bool) throws(BuildError) -> [ModuleChange] {
        let names = try workspace.moduleNames()
        var added: [String: [String: String]] = [:]
        var result: [ModuleChange] = []
        for name in names {
            let snapshot = try workspace.snapshot(name, release: release)
            guard let built = workspace.manifest.currentVersion(name) else {
                added[name] = snapshot.files
                continue
            }
            guard built.key != snapshot.key else { continue }
            var files = differing(built.files ?? [:], snapshot.files)
            files += differing(built.includes ?? [:], workspace.includes)
            result.append(ModuleChange(name: name, kind: .modified, from: nil, files: files.sorted()))
        }
        let gone = workspace.manifest.current.keys.filter { !names.contains($0) }
        var deleted: [String: [String: String]] = [:]
        for name in gone { deleted[name] = workspace.manifest.currentVersion(name)?.files ?? [:] }
        result += pairRenames(added: added, deleted: deleted, folder: project.config.modules)
        return result.sorted { $0.name < $1.name }
    }

    /// Against a revision: the diff of its tree with the work tree, mapped to modules.
    func changes(_ workspace: Workspace, since revision: String) throws(BuildError) -> [ModuleChange] {
        let prefix = workspace.source.projectPrefix
        let modulesFolder = project.config.modules + "/"
        let repository = workspace.source.repository
        let commit: ObjectID
        // The modules the revision had: the folders under the modules folder
        // that were modules by the work tree's rule (Project.moduleNames).
        // Their files are read only for a module gone since, to tell a
        // renamed module from a deleted one; listing all of them cost a
        // quarter of `hot changed --since` on 20,000 files (callgrind).
        var then: Set<String> = []
        var changedFiles: [String: Set<String>] = [:]
        var includeFiles: Set<String> = []
        let names = try workspace.moduleNames()
        do throws(GitError) {
            guard try repository.headCommit() != nil else { throw GitError.noCommits }
            commit = try repository.resolve(revision)
            let folderNames = try repository.directoryNames(of: commit, under: prefix + project.config.modules)
            let candidates = folderNames.filter { HotSDK.isValidModuleName($0) }
            let folders = Set(names).union(candidates).sorted().map { prefix + modulesFolder + $0 }
            let includes = project.config.include.map { prefix + $0 }
            for change in try diff(repository, from: commit, folders: folders, includes: includes) {
                for repoPath in Set([change.oldPath, change.newPath]) {
                    let path = String(repoPath.dropFirst(prefix.count))
                    if let module = moduleName(of: path, in: modulesFolder) {
                        if Project.isSourcePath(path.dropFirst(modulesFolder.count + module.count + 1)) {
                            changedFiles[module, default: []].insert(path)
                        }
                    } else if let folder = project.config.include.first(where: { path.hasPrefix($0 + "/") }),
                        Project.isSourcePath(path.dropFirst(folder.count + 1))
                    {
                        includeFiles.insert(path)
                    }
                }
            }
            // A module of the work tree whose sources the diff leaves alone
            // had the same sources then: a module then too. Any other folder
            // is looked into, up to its first source.
            for name in candidates {
                if names.contains(name) && changedFiles[name] == nil {
                    then.insert(name)
                } else if try repository.containsFile(
                    of: commit, under: prefix + modulesFolder + name, where: Project.isSourceFile, searching: Project.isSearchedFolder)
                {
                    then.insert(name)
                }
            }
        } catch {
            throw .git(error)
        }
        var added: [String: [String: String]] = [:]
        var result: [ModuleChange] = []
        for name in names {
            guard then.contains(name) else {
                added[name] = try workspace.files(name)
                continue
            }
            let files = (changedFiles[name] ?? []).union(includeFiles)
            if !files.isEmpty { result.append(ModuleChange(name: name, kind: .modified, from: nil, files: files.sorted())) }
        }
        var deleted: [String: [String: String]] = [:]
        do throws(GitError) {
            for name in then.subtracting(names) {
                var files: [String: String] = [:]
                let folder = prefix + modulesFolder + name + "/"
                // Its sources only, as `Workspace.files` lists an added module's.
                for entry in try repository.treeEntries(of: commit, under: folder)
                where Project.isSourcePath(entry.path.dropFirst(folder.count)) {
                    files[String(entry.path.dropFirst(prefix.count))] = entry.id.description
                }
                deleted[name] = files
            }
        } catch {
            throw .git(error)
        }
        result += pairRenames(added: added, deleted: deleted, folder: project.config.modules)
        return result.sorted { $0.name < $1.name }
    }

    /// The diff of `commit` with the work tree in the module folders
    /// `folders` and the include folders, the only paths a module's key
    /// depends on. With many folders, they are split among threads, each
    /// diffing its share with a repository handle of its own: the diff is
    /// mostly stat(2) calls, which on two cores halve in wall time when two
    /// threads make them (as git's own preloading of the index does).
    private func diff(_ repository: Repository, from commit: ObjectID, folders: [String], includes: [String]) throws(GitError) -> [Change] {
        let threads = folders.count >= ChangeDetector.foldersPerThread * 2 ? min(processorCount(), 4) : 1
        guard threads > 1 else { return try repository.diff(from: commit, toWorkdirUnder: folders + includes) }
        let share = (folders.count + threads - 1) / threads
        let results = concurrentMap(Array(0..<threads), width: threads) { i -> Result<[Change], GitError> in
            let mine = Array(folders[min(folders.count, i * share)..<min(folders.count, (i + 1) * share)]) + (i == 0 ? includes : [])
            return Result { () throws(GitError) -> [Change] in
                let handle = i == 0 ? repository : try Repository.open(at: repository.workdir)
                return try handle.diff(from: commit, toWorkdirUnder: mine)
            }
        }
        var changes: [Change] = []
        for result in results { changes += try result.get() }
        return changes
    }

    /// Below this many module folders a thread's share, one thread diffs them all.
    static let foldersPerThread = 32

    /// An added module whose files (by name within the folder, and content)
    /// are exactly a deleted module's is that module renamed.
    private func pairRenames(added: [String: [String: String]], deleted: [String: [String: String]], folder: String) -> [ModuleChange] {
        func relative(_ files: [String: String], _ module: String) -> [String: String] {
            let base = folder + "/" + module + "/"
            return Dictionary(files.map { (String($0.key.dropFirst(base.count)), $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        var result: [ModuleChange] = []
        var unmatched = deleted
        for (name, files) in added.sorted(by: { $0.key < $1.key }) {
            let shape = relative(files, name)
            if let old = unmatched.first(where: { !$0.value.isEmpty && relative($0.value, $0.key) == shape })?.key {
                unmatched[old] = nil
                result.append(ModuleChange(name: name, kind: .renamed, from: old, files: (Array(files.keys) + Array(deleted[old]!.keys)).sorted()))
            } else {
                result.append(ModuleChange(name: name, kind: .added, from: nil, files: files.keys.sorted()))
            }
        }
        for (name, files) in unmatched {
            result.append(ModuleChange(name: name, kind: .deleted, from: nil, files: files.keys.sorted()))
        }
        return result
    }

    private func moduleName(of path: String, in folder: String) -> String? {
        guard path.hasPrefix(folder) else { return nil }
        let rest = path.dropFirst(folder.count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return String(rest[..<slash])
    }

    private func differing(_ a: [String: String], _ b: [String: String]) -> [String] {
        Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }
}
