import Hot

/// The typed-handle rule of a load (docs/ARCHITECTURE.md, "Typed handles"):
/// a version that lacks an export a live typed handle calls, or has it with
/// another type, is refused before it changes anything, so that no handle
/// that worked before the load fails after it. A module with no current
/// version takes any: refusing would keep nothing, and would fail every
/// handle on it instead of the one the version does not fit (a host that
/// makes its handles before its node boots).
extension CodeServer {
    /// Refuses `module` v`version` by its entered exports, with the call
    /// path's own cast: exactly what each handle's next call would find.
    func refuseUnfit(_ module: String, version: Int, module hot: HotModule) throws(LoadError) {
        var byName: [String: Export] = [:]
        for export in hot.exports where byName[export.name] == nil { byName[export.name] = export }
        try refuseUnfit(module, version: version) { demand in
            byName[demand.function].map { export in (ExportType(of: export), demand.accepts(export)) }
        }
    }

    /// Refuses `module` v`version` by the export types its trial child said:
    /// the same executable names the same type alike, so a deploy's stage
    /// refuses what the load would.
    func refuseUnfit(_ module: String, version: Int, trialTypes: [String: ExportType]) throws(LoadError) {
        try refuseUnfit(module, version: version) { demand in
            trialTypes[demand.function].map { type in (type, type.exact == demand.type.exact) }
        }
    }

    /// `find` tells, for a demand, the type of the export of that name and
    /// whether it fits; nil when there is no such export.
    private func refuseUnfit(
        _ module: String, version: Int, _ find: (ExportDemand) -> (type: ExportType, fits: Bool)?
    ) throws(LoadError) {
        guard let demands = exports.slot(module)?.demands.all, let keeps = versions(module).current?.version else { return }
        for demand in demands {
            let found = find(demand)
            if let found, found.fits { continue }
            // The short forms alike (a type of the module's own with the
            // host's name): only the full names tell them apart.
            let alike = found?.type.shown == demand.type.shown
            throw .exportType(
                module: module, version: version, export: demand.function,
                host: alike ? demand.type.exact : demand.type.shown, found: found.map { alike ? $0.type.exact : $0.type.shown },
                keeps: keeps)
        }
    }
}
