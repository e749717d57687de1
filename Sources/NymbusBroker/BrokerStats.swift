/// Counters of one broker, for `INFO`, `nymbus status` and tests.
public struct BrokerStats: Hashable, Sendable {
    /// Clients connected now.
    public var connectedClients = 0
    /// Clients accepted since start.
    public var totalConnections: UInt64 = 0
    /// Connections refused because ``BrokerConfiguration/maxClients`` were connected.
    public var rejectedConnections: UInt64 = 0
    /// Distinct channels with at least one local subscriber.
    public var channels = 0
    /// Distinct patterns with at least one local subscriber.
    public var patterns = 0
    /// Channel and pattern subscriptions over all clients.
    public var subscriptions = 0
    /// `PUBLISH` commands the backend accepted (messages in from local clients).
    public var messagesPublished: UInt64 = 0
    /// `PUBLISH` commands the backend refused (the client got `-ERR`).
    public var publishesRejected: UInt64 = 0
    /// Messages handed to ``BrokerServer/deliver(channel:payload:)`` by the overlay.
    public var messagesFromNetwork: UInt64 = 0
    /// `message` and `pmessage` frames queued to local subscribers (messages out).
    public var messagesDelivered: UInt64 = 0
    /// Clients disconnected because their output queue went over the limit.
    public var slowClientDisconnects: UInt64 = 0
    /// Connections closed for malformed RESP.
    public var protocolErrors: UInt64 = 0
    /// Messages that should have been appended to a stream and were not (store write failed, or
    /// the stream's ids were exhausted): shed load, counted here and in INFO.
    public var streamAppendsFailed: UInt64 = 0
    /// Commands executed (including refused ones).
    public var commandsProcessed: UInt64 = 0

    /// Creates zeroed counters.
    public init() {}
}
