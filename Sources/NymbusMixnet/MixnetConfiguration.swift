import NymbusCrypto

/// How a `LocalMixnet` listens and how its simulated mixnet behaves.
///
/// The defaults match a real nym-client (15 ms mean delay per hop, 4 hops, SURB rules of
/// `MixnetSurbPolicy`), except `firstPort`, which is 0 (pick free ports) so tests never collide;
/// the `nymbus mixnet` command uses nym-client's 1977.
public struct MixnetConfiguration: Sendable {
    /// Sphinx hops every packet takes: 3 mix layers and the egress gateway.
    public static let hopCount = 4

    /// The listen host. Only loopback hosts are accepted (`127.0.0.0/8`, `::1`, `localhost`).
    public var host: String = "127.0.0.1"
    /// Port of endpoint 0; endpoint `i` listens on `firstPort + i`. 0 picks free ports, below the
    /// kernel's ephemeral range so that a restart reopens them (`LocalMixnet.freePorts`).
    public var firstPort: Int = 0
    /// How many simulated nym-clients to start with (more may be stored in the state directory).
    public var clientCount: Int = 3
    /// Mean of the exponential delay of each hop; `.zero` delivers immediately.
    public var hopDelay: Duration = .milliseconds(15)
    /// Mean of the exponential interval between two packets an endpoint sends (nym-client's
    /// `message_sending_average_delay`: 20 ms, about 50 packets/s); `.zero` sends at once, with
    /// no bandwidth limit, for tests that need raw speed.
    public var sendDelay: Duration = .milliseconds(20)
    /// Probability that a message (or SURB control message) is lost in the mixnet.
    public var lossProbability: Double = 0
    /// Probability that a data message is delivered twice (each copy delayed independently).
    public var duplicateProbability: Double = 0
    /// Seed for losses, duplicates, delays and sender tags; `nil` seeds from the OS.
    public var seed: UInt64? = nil
    /// Where endpoint addresses are kept across restarts (`mixnet-state.json`); `nil` keeps nothing.
    public var stateDirectory: String? = nil
    /// Reply-SURB rules.
    public var surbs = MixnetSurbPolicy()
    /// Messages kept per endpoint while no app is attached; the oldest go first beyond this.
    public var inboxMessageLimit: Int = 10_000
    /// Bytes kept per endpoint while no app is attached; the oldest go first beyond this.
    public var inboxByteLimit: Int = 256 << 20
    /// How long an undelivered message waits in an endpoint's inbox (the gateway keeps 24 h).
    public var inboxMaxAge: Duration = .seconds(24 * 3600)
    /// Simulated nym-client startup: the port opens only after this long (nym-client first
    /// fetches the topology and registers with its gateway).
    public var startupDelay: Duration = .zero

    /// The defaults described above.
    public init() {}

    /// nym-client's hidden `--fastmode`: 10 ms per hop and a 4 ms send delay (~250 packets/s).
    public mutating func useFastMode() {
        hopDelay = .milliseconds(10)
        sendDelay = .milliseconds(4)
    }

    /// Throws `MixnetError.nonLoopbackHost` for a host other than loopback, else
    /// `.invalidConfiguration` naming the first field out of its range and the values it may take
    /// (``FieldCheck``). `LocalMixnet.init` calls it.
    public func validate() throws(MixnetError) {
        guard MixnetConfiguration.isLoopback(host) else {
            throw MixnetError(
                .nonLoopbackHost,
                "refusing to listen on '\(host)': the local mixnet only listens on loopback (127.0.0.1, ::1, localhost)"
            )
        }
        let check = FieldCheck<MixnetError>("MixnetConfiguration", .invalidConfiguration)
        try check.within("firstPort", firstPort, 0...65535)
        try check.within("clientCount", clientCount, 0...(firstPort == 0 ? Int.max : 65536 - firstPort))
        try check.atLeast("hopDelay", hopDelay, .zero)
        try check.atLeast("sendDelay", sendDelay, .zero)
        try check.within("lossProbability", lossProbability, 0...1)
        try check.within("duplicateProbability", duplicateProbability, 0...1)
        try check.atLeast("inboxMessageLimit", inboxMessageLimit, 0)
        try check.atLeast("inboxByteLimit", inboxByteLimit, 0)
        try check.atLeast("inboxMaxAge", inboxMaxAge, .zero)
        try check.atLeast("startupDelay", startupDelay, .zero)
        try surbs.validate()
    }

    /// Whether `host` names the loopback interface.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            guard let value = Int(part), (0...255).contains(value), part.count <= 3 else { return false }
            return true
        }
    }
}
