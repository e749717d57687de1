/// Counters of the topic layer, for `nymbus status`, the broker's INFO and tests.
///
/// Every object a node refuses lands in exactly one `dropped…` counter, so nothing is lost
/// without a trace. `transmissions` counts per-peer copies (what the mixnet carries).
public struct PubSubStatistics: Sendable, Equatable {
    /// Objects received from peers, valid or not.
    public var received = 0
    /// Objects from peers that were new and valid (each then relayed and, if subscribed, delivered).
    public var accepted = 0
    /// Objects already in the seen cache (honest flooding produces these; no penalty).
    public var duplicates = 0
    /// Objects this node published (a batch object counts once).
    public var published = 0
    /// Objects opened for at least one local subscription (own publishes included).
    public var delivered = 0
    /// Deliveries handed to subscription streams (one object, many subscriptions = many; a batch
    /// object makes one per entry and subscription).
    public var deliveries = 0
    /// Deliveries a full subscription buffer refused.
    public var subscriptionOverflow = 0
    /// Times a publish waited for room in the held queue (no peer linked).
    public var heldQueueWaits = 0
    /// Accepted objects passed on to at least one peer.
    public var forwarded = 0
    /// Per-peer copies sent: forwards, publishes and flushed publishes.
    public var transmissions = 0
    /// Of `published`, the `rawBytesBatch` objects (each carrying several payloads).
    public var publishedBatches = 0
    /// Payloads carried inside `publishedBatches`.
    public var batchedPayloads = 0
    /// Publishes held because no peer was connected.
    public var queued = 0
    /// Held publishes sent once a peer connected.
    public var flushed = 0
    /// Held publishes re-sealed with a fresh timestamp before sending (they got a new id).
    public var resealed = 0
    /// Held publishes from the last run left out because they exceeded the queue's bounds.
    public var heldDroppedAtLoad = 0
    /// Peers penalised for forwarding an invalid object.
    public var penalties = 0
    /// Objects over the local size limit.
    public var droppedOversized = 0
    /// Objects that do not parse (bad length, bad topic id, reserved byte not 0, …).
    public var droppedMalformed = 0
    /// Objects with an unknown version byte (not penalised: a newer peer may send them).
    public var droppedUnsupportedVersion = 0
    /// Objects whose membership signature does not verify (includes any tampered byte).
    public var droppedBadSignature = 0
    /// Objects older than `maxAge` (late or replayed).
    public var droppedTooOld = 0
    /// Objects more than `maxFuture` ahead of this node's clock.
    public var droppedFuture = 0
    /// New objects refused because the seen cache was full of live ids.
    public var droppedCacheFull = 0
    /// Objects of a subscribed topic whose ciphertext or plaintext did not check out. Only a
    /// holder of the topic secret can make one; relays still forward them (they cannot tell).
    public var decryptFailed = 0
    /// Objects of a subscribed topic with an author signature that does not verify.
    public var badAuthorSignature = 0
    /// Deliveries of a registered type whose payload did not decode (delivered raw).
    public var undecodableValues = 0

    // Gossip repair (spec/pubsub.md "Repair"). Counted when the transport accepted the send.

    /// `inv` messages sent.
    public var invSent = 0
    /// Ids announced in those `inv`s.
    public var invIdsSent = 0
    /// `inv` messages received.
    public var invReceived = 0
    /// `getdata` messages sent.
    public var getdataSent = 0
    /// Ids asked for in those `getdata`s.
    public var getdataIdsSent = 0
    /// Objects that arrived in answer to our `getdata` and were new (each one a miss repaired).
    public var repairedObjects = 0
    /// Objects sent in answer to peers' `getdata` (not counted in `transmissions`).
    public var getdataServed = 0

    // Dissemination (spec/pubsub.md §15).

    /// `prune` messages sent: a duplicate arrived over an eager link, which turned lazy.
    public var pruneSent = 0
    /// `prune` messages received.
    public var pruneReceived = 0
    /// `graft` messages sent: an announced id did not arrive in time, the announcer's link turned eager.
    public var graftSent = 0
    /// `graft` messages received.
    public var graftReceived = 0
    /// Pushed copies of objects this node had already fetched: the tree was slow, not
    /// redundant (not counted towards a prune; their lag lengthens the graft timeout).
    public var latePushes = 0
    /// Lazy links grafted because the spare send budget pays for another eager link (§15 rule 9;
    /// also in ``graftSent``).
    public var spareGrafts = 0
    /// Idle eager links a leaf of a stripe pruned at a heartbeat above its target: its children,
    /// sent to find a parent interior in that stripe (§15 rule 11; also in ``pruneSent``).
    public var leafShed = 0
    /// `graft`s a leaf of a stripe refused at a load that leaves no spare budget, each answered
    /// with `prune` so the grafter finds a parent interior in that stripe (§15 rule 12; the
    /// prunes are also in ``pruneSent``).
    public var graftsRefused = 0
    /// Per-publisher order of received messages: gaps skipped, late and duplicate arrivals,
    /// bound overflows (spec/broker.md "Order").
    public var order = PublisherOrderCounters()
    /// Received messages held now for a missing predecessor.
    public var orderHeld = 0

    /// All zero.
    public init() {}

    /// Sum of every `dropped…` counter.
    public var dropped: Int {
        droppedOversized + droppedMalformed + droppedUnsupportedVersion + droppedBadSignature + droppedTooOld
            + droppedFuture + droppedCacheFull
    }
}
