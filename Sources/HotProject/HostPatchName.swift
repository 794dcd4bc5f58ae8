/// The module every patch of a host's own code is a version of
/// (docs/ARCHITECTURE.md, "Patching the host"): `hot watch` builds it, the
/// node loads it as any module, and a module folder may not take its name.
public enum HostPatchName {
    public static let module = "host_patch"
}

/// The `patchable` setting of a host's own targets (docs/RELOADING.md,
/// "Patching the host's own code"): the compiler's flags that make every
/// function of a module replaceable at run time, reachable from a patch with
/// its internal and private names, in debug builds only. The template
/// declares it, `hot adopt` writes it, and the host's build description is
/// read for the same flags to tell a patchable module.
public enum PatchableSetting {
    /// The flags as swiftc takes them.
    public static let flags = ["-enable-testing", "-Xfrontend", "-enable-implicit-dynamic", "-Xfrontend", "-enable-private-imports"]

    /// The flags that reach the frontend's own command line, where a build
    /// description records them.
    public static let frontendFlags = flags.filter { $0 != "-Xfrontend" }

    /// The declaration a Package.swift holds, named `patchable`.
    public static let declaration = """
        /// The app's own code can be patched while it runs: `hot watch` replaces the
        /// functions, methods and computed properties you edit in Sources/ in the
        /// running app. Debug builds only; a release build is compiled as usual.
        let patchable: [SwiftSetting] = [
            .unsafeFlags(
                [\(flags.map { "\"\($0)\"" }.joined(separator: ", "))],
                .when(configuration: .debug))
        ]
        """
}
