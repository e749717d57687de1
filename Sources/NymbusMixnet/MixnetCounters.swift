/// Running totals of what the local mixnet did, for tests and the status output.
public struct MixnetCounters: Sendable, Equatable {
    /// App messages sent into the mixnet (`send`, `sendAnonymous`, and `reply` once it had SURBs).
    public var messagesRouted = 0
    /// App messages that reached an endpoint (pushed to its app or put into its inbox), duplicates included.
    public var messagesDelivered = 0
    /// Messages (app data or SURB control) lost by the configured loss probability.
    public var droppedByLoss = 0
    /// Extra copies of app messages made by the configured duplicate probability.
    public var duplicated = 0
    /// Messages addressed to a Nym address that is not an endpoint of this mixnet.
    public var droppedNoRoute = 0
    /// `reply` requests for a tag the endpoint holds no SURB book for (silently dropped).
    public var repliesDroppedUnknownTag = 0
    /// Queued replies dropped because SURBs never came (too many re-requests or too long).
    public var repliesDroppedNoSurbs = 0
    /// SURB requests sent by holders (each spent one SURB).
    public var surbRequests = 0
    /// SURB requests the original sender ignored (it never sent anonymously to that holder).
    public var surbRequestsRefused = 0
    /// Top-up messages sent by original senders.
    public var surbTopUps = 0
    /// Inbox messages discarded because the inbox was full or the message too old.
    public var inboxDropped = 0
    /// Inbox messages and queued replies lost when an endpoint's nym-client "process" restarted.
    public var lostOnRestart = 0
    /// Sphinx packets that left endpoints' Poisson senders (app data and SURB traffic, not cover).
    public var packetsSent = 0
    /// Messages dropped by `ClosedConnection` before all their packets left, and those packets.
    public var messagesDroppedClosedLane = 0
    public var packetsDroppedClosedLane = 0
    /// Requests answered with an `error` (malformed, unknown, too short, empty).
    public var requestsRejected = 0

    /// All zero.
    public init() {}
}
