/// The module every patch of a host's own code is a version of
/// (docs/ARCHITECTURE.md, "Patching the host"): `hot watch` builds it, the
/// node loads it as any module, and a module folder may not take its name.
public enum HostPatchName {
    public static let module = "host_patch"
}
