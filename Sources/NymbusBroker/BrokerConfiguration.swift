import NymbusCrypto

/// Settings of one broker: where its socket lives and the bounds it keeps.
public struct BrokerConfiguration: Sendable {
    /// Path of the Unix socket. Its directory is created with mode 0700 if missing; an existing
    /// directory must be owned by this user and have no group or other permissions.
    public var socketPath: String
    /// Request parsing limits (bulk length, argument count, inline length, request size).
    public var limits: RESPLimits
    /// Most bytes queued for one client before it counts as a slow subscriber and is
    /// disconnected. Default 8 MiB, Redis's pub/sub soft limit; at least 64 KiB (NIO's write
    /// buffer high-water mark, below which the queue is not measured).
    public var maxOutputBytes: Int
    /// How long a slow subscriber is given to read what is already queued, including the final
    /// `-ERR` that tells it why it is being dropped, before the connection is closed. Nothing new
    /// is queued for it meanwhile. Default 5 s.
    public var slowClientGrace: Duration
    /// Most clients connected at once; more are told `-ERR max number of clients reached` and
    /// closed. Default 10,000 (Redis's `maxclients`).
    public var maxClients: Int
    /// How much each stream keeps (oldest entries go first); see ``StreamRetention``.
    public var streamRetention = StreamRetention()

    /// Creates a configuration; see each property for the defaults.
    public init(
        socketPath: String,
        limits: RESPLimits = .default,
        maxOutputBytes: Int = 8 * 1024 * 1024,
        slowClientGrace: Duration = .seconds(5),
        maxClients: Int = 10_000
    ) {
        self.socketPath = socketPath
        self.limits = limits
        self.maxOutputBytes = max(64 * 1024, maxOutputBytes)
        self.slowClientGrace = slowClientGrace
        self.maxClients = max(1, maxClients)
    }

    /// Throws `BrokerError.invalidConfiguration` naming the first field out of its range and the
    /// values it may take (``FieldCheck``). `BrokerServer.start()` calls it.
    public func validate() throws(BrokerError) {
        let check = FieldCheck<BrokerError>("BrokerConfiguration", .invalidConfiguration)
        try check.require(!socketPath.isEmpty, "socketPath", "empty", allowed: "a path")
        try check.atLeast("limits.maxBulkLength", limits.maxBulkLength, 1)
        try check.atLeast("limits.maxArrayCount", limits.maxArrayCount, 1)
        try check.atLeast("limits.maxInlineLength", limits.maxInlineLength, 1)
        try check.atLeast("limits.maxRequestBytes", limits.maxRequestBytes, 1)
        try check.atLeast("maxOutputBytes", maxOutputBytes, 64 * 1024)
        try check.atLeast("slowClientGrace", slowClientGrace, .zero)
        try check.atLeast("maxClients", maxClients, 1)
        try check.atLeast("streamRetention.maxLength", streamRetention.maxLength, 0)
        try check.atLeast("streamRetention.maxAge", streamRetention.maxAge, .zero)
        try check.atLeast("streamRetention.maxBytes", streamRetention.maxBytes, 0)
    }
}

/// How much each stream keeps: after every append the oldest entries beyond any of these limits
/// are removed (exactly, like `XTRIM ... =`). 0 turns a limit off. Defaults in spec/broker.md.
public struct StreamRetention: Sendable, Equatable {
    /// Most entries. Default 1,000,000.
    public var maxLength: Int
    /// Oldest entry age, by the time in the entry's id (milliseconds) against the wall clock.
    /// Default zero (off, like JetStream's `MaxAge`): explicit ids such as `1-1` would be "old".
    public var maxAge: Duration
    /// Most field and value bytes. Default 256 MiB.
    public var maxBytes: Int

    /// Creates limits; see each property for the defaults.
    public init(maxLength: Int = 1_000_000, maxAge: Duration = .zero, maxBytes: Int = 256 << 20) {
        self.maxLength = maxLength
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }

    /// ``maxAge`` in whole milliseconds, the unit of stream ids (rounded down).
    var maxAgeMilliseconds: Int64 {
        let (seconds, attoseconds) = maxAge.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
