public import NymbusWire

/// Counters a node keeps about its traffic and its peers' behaviour.
///
/// Every message the node drops is counted under one reason, so an operator (and the tests)
/// can see why nothing happened.
public struct NodeStatistics: Sendable, Equatable {
    /// Decoded messages received, by command.
    public var messagesIn: [Command: Int] = [:]
    /// Messages handed to nym-client, by command.
    public var messagesOut: [Command: Int] = [:]
    /// Bytes received from nym-client.
    public var bytesIn = 0
    /// Bytes handed to nym-client.
    public var bytesOut = 0
    /// Messages for a session id the node never had (or a session that started without `version`).
    public var droppedUnknownSession = 0
    /// Messages with a known session id that arrived on the wrong path (untagged instead of
    /// tagged, or with another sender tag).
    public var droppedWrongPath = 0
    /// Messages for a session the node closed recently (late or crossing a `bye`).
    public var droppedClosedSession = 0
    /// `bye` reminders sent to peers still using a link this node closed (they missed the first).
    public var closedLinkReminders = 0
    /// Bytes that are not a valid envelope or message.
    public var malformed = 0
    /// Messages over a size or count limit.
    public var oversized = 0
    /// Handshake or session rule violations.
    public var protocolViolations = 0
    /// Links closed for sending too fast.
    public var floods = 0
    /// Times an address or tag was discouraged.
    public var discouragements = 0
    /// Inbound handshakes refused because the address or tag is discouraged.
    public var refusedDiscouraged = 0
    /// Inbound handshakes refused for lack of room, or because this node is hidden.
    public var refusedInbound = 0
    /// Inbound links closed to make room for a new one (`InboundEviction`).
    public var evictedInbound = 0
    /// Links that turned out to be to ourselves.
    public var selfConnections = 0
    /// Duplicate `version`/`verack` messages ignored (the mixnet may duplicate).
    public var duplicates = 0
    /// Handshakes completed.
    public var handshakesCompleted = 0
    /// Handshakes that failed (refused, timed out, violated).
    public var handshakesFailed = 0
    /// Links closed for silence or a handshake that took too long.
    public var timeouts = 0
    /// Pongs that did not echo the outstanding ping nonce.
    public var pongMismatches = 0
    /// Address-fetch links opened (short links that only ask for addresses).
    public var addressFetches = 0
    /// Links pinged at once because the same peer opened a new one (it may have restarted).
    public var earlyProbes = 0
    /// Address entries received in `addr`.
    public var addressesReceived = 0
    /// Address entries dropped by the per-peer token bucket.
    public var addressesRateLimited = 0
    /// Address entries newly added to the book.
    public var addressesAdded = 0
    /// Address entries relayed to other peers.
    public var addressesRelayed = 0
    /// `getaddr` ignored (a second one on a link, or from a peer we dialed).
    public var getaddrIgnored = 0
    /// `reject` messages received.
    public var rejectsReceived = 0
    /// Custom objects of a type nobody registered.
    public var unknownObjectTypes = 0
    /// Sends nym-client refused (not connected, queue full, ...).
    public var sendFailures = 0
    /// Topic-layer sends (`object`, `inv`, `getdata` to one peer) for a link that had closed
    /// meanwhile (a race with churn, not a refusal): not sent, not counted in `sendFailures`.
    public var sendsToClosedLinks = 0
    /// Objects a link's outbox refused because `linkQueuePackets` object packets already waited
    /// there: not sent on that link now; gossip repair announces them to the peer later.
    public var objectsRefusedLinkFull = 0
    /// Catch-up answers (old objects a peer asked for, sent behind live ones) a link's outbox
    /// refused because its catch-up queue was full: the asker asks again after its request
    /// times out. Not in ``objectsRefusedLinkFull``, which counts live objects.
    public var catchUpRefusedLinkFull = 0
    /// Control or repair messages a link's outbox dropped because it already held
    /// `linkQueueMessageLimit` of them (a link that stopped draining while its peer keeps asking).
    public var messagesDroppedQueueFull = 0
    /// Messages still waiting in a link's outbox when the link closed: nothing to send them to,
    /// and nothing lost (the objects among them stay in the repair cache and are announced over
    /// the links that remain; the control messages were for the peer that left). Not a loss, so
    /// its STATUS name has no loss word (`nymbus status --check`).
    public var messagesLeftAtClose = 0
    /// Times a publisher waited for room in the outboxes (`waitForSendRoom()`).
    public var publishWaits = 0
    /// Sends put back in their outbox because nym-client's WebSocket queue was full (retried).
    public var sendRetries = 0
    /// `LaneQueueLength` answers that never came (a reconnect lost them); the lane was asked again.
    public var laneAnswersLost = 0

    public init() {}
}
