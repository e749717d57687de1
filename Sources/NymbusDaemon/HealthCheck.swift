/// The verdict of `nymbus status --check`, from the numbers of `NYMBUS.STATUS`: a pure function
/// so that scripts, systemd and monitoring agree on what "healthy" means.
///
/// Unhealthy, in this order: no nym-client connection (nothing can leave the machine), no peer
/// (nothing published here reaches anyone), or losses (any status counter whose name has the
/// word `lost`, `loss`, `losses` or `dropped` is above zero since the node started). The first
/// reason found is reported, in one line.
public enum HealthCheck {
    /// Healthy, or why not.
    public enum Verdict: Sendable, Hashable {
        case healthy(String)
        case unhealthy(String)

        /// The one line to print.
        public var line: String {
            switch self {
            case .healthy(let text): "OK: \(text)"
            case .unhealthy(let text): "UNHEALTHY: \(text)"
            }
        }
    }

    /// Words that mark a status counter as a count of lost messages.
    public static let lossWords: Set<String> = ["lost", "loss", "losses", "dropped"]

    /// Judges the integer entries of a status map.
    public static func judge(_ status: [(key: String, value: Int64)]) -> Verdict {
        let values = Dictionary(status.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        if values["nym-client-connected"] == 0 {
            return .unhealthy(
                "no nym-client: the node is not connected to its nym-client (reconnects so far: \(values["nym-client-reconnects"] ?? 0))")
        }
        if values["peers"] == 0 {
            return .unhealthy("no peer: the node has no link to any other node (address book: \(values["address-book"] ?? 0))")
        }
        let losses = status.filter { entry in
            entry.value > 0 && entry.key.lowercased().split(separator: "-").contains { lossWords.contains(String($0)) }
        }
        if !losses.isEmpty {
            return .unhealthy("losses: " + losses.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        return .healthy("\(values["peers"] ?? 0) peer(s), nym-client connected, no losses")
    }
}
