// Written by scripts/fingerprint.sh from the SDK sources; do not edit.
extension HotSDK {
    /// A hash of the SDK sources this node or tool was built from.
    public static let fingerprint = "cb1543c7a0abf098"
    /// The Swift compiler version this node or tool was built with.
    public static let compiler = "6.3.1"
}
