import NymbusCrypto
public import NymClient
public import NymbusBroker
public import NymbusNode
public import NymbusPubSub

/// Everything one Nymbus node needs: where its nym-client is, how the node and the topic layer
/// behave, where the broker's socket goes and where data is kept.
public struct DaemonConfiguration: Sendable {
    /// The nym-client WebSocket (real or the local mixnet; the node cannot tell).
    public var nymClient: NymClientConfiguration
    /// Peers, modes, limits, timers.
    public var node: NodeConfiguration
    /// Topic-layer limits (payload size, seen window, queue bounds).
    public var pubsub: PubSubConfiguration
    /// Path of the broker's Unix socket (its directory is made 0700, the socket 0600).
    public var socketPath: String
    /// Data directory for the address book, joined topics and the author key; nil keeps nothing.
    public var dataDirectory: String?
    /// Most bytes queued for one slow broker subscriber before it is disconnected.
    public var brokerMaxOutputBytes: Int = 8 * 1024 * 1024
    /// Log a warning (once per spell) when the node has had no peer this long; nil never warns.
    public var warnWithoutPeerAfter: Duration? = .seconds(600)
    /// When stream changes are synced to disk (`streams.sqlite` in the data directory), like
    /// Redis's `appendfsync`; `everysec` by default.
    public var streamFsync: StreamFsyncPolicy = .everysec
    /// How long a publisher waits for a first peer once the publish queue is full, before
    /// `PUBLISH` is answered with an error (spec/broker.md §9). Publishes are held meanwhile.
    public var noPeerPublishWait: Duration = .seconds(30)
    /// Retention and budget of the object archive that catch-up serves (`archive.sqlite` in the
    /// data directory; spec/pubsub.md §16): 24 h, 256 MiB by default.
    public var archive = ArchiveLimits()

    public init(
        nymClient: NymClientConfiguration, node: NodeConfiguration, pubsub: PubSubConfiguration = PubSubConfiguration(),
        socketPath: String, dataDirectory: String?
    ) {
        self.nymClient = nymClient
        self.node = node
        self.pubsub = pubsub
        self.socketPath = socketPath
        self.dataDirectory = dataDirectory
    }

    /// Throws `DaemonError.invalidConfiguration` naming the first field out of its range and the
    /// values it may take (``FieldCheck``), its own or one of its parts' (the nym-client
    /// connection, the node, the topic layer, the archive). `NymbusDaemon.init` calls it.
    public func validate() throws(DaemonError) {
        let check = FieldCheck<DaemonError>("DaemonConfiguration", .invalidConfiguration)
        do { try nymClient.validate() } catch { throw DaemonError.invalidPart(error.details) }
        do { try node.validate() } catch { throw DaemonError.invalidPart(error.details) }
        do { try pubsub.validate() } catch { throw DaemonError.invalidPart(error.details) }
        do { try archive.validate() } catch { throw DaemonError.invalidPart(error.details) }
        try check.require(!socketPath.isEmpty, "socketPath", "empty", allowed: "a path")
        try check.atLeast("brokerMaxOutputBytes", brokerMaxOutputBytes, 64 * 1024)
        if let warnWithoutPeerAfter { try check.above("warnWithoutPeerAfter", warnWithoutPeerAfter, .zero) }
        try check.atLeast("noPeerPublishWait", noPeerPublishWait, .zero)
    }
}

extension DaemonError {
    /// A part's configuration error as the daemon's, with the part's reason (which names the
    /// field) and location.
    static func invalidPart<Part>(_ details: ErrorDetails<Part>) -> DaemonError {
        DaemonError(details: ErrorDetails(code: .invalidConfiguration, reason: details.reason, location: details.location))
    }
}
