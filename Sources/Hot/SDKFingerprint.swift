// Written by scripts/fingerprint.sh from the SDK sources; do not edit.
extension HotSDK {
    /// A hash of the SDK sources this node or tool was built from.
    public static let fingerprint = "be26e318a7a7e361"
    /// The Swift compiler version this node or tool was built with.
    public static let compiler = "6.3.1"
}
