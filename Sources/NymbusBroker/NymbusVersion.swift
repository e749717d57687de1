/// The version of Nymbus, in one place: `nymbus --version`, the broker's `INFO`
/// (`nymbus_version`) and the metrics endpoint (`nymbus_build_info`) all report it.
public enum NymbusVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
