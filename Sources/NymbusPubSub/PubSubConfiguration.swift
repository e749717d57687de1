public import NymbusCrypto

/// The knobs of the topic layer, with defaults from spec/pubsub.md §10.
///
/// The time rules hold together only if `seenWindow ≥ maxAge + maxFuture`: an object accepted
/// at time t has a timestamp ≤ t + maxFuture, so any replay after t + maxAge + maxFuture is
/// refused as too old, and until then its id is still in the seen cache. `validate()` checks it.
public struct PubSubConfiguration: Sendable {
    /// How objects spread over the links (spec/pubsub.md §15).
    public enum Dissemination: String, Sendable, CaseIterable {
        /// Every object over every link: N·d copies per object, the most robust and the most
        /// expensive (the mixnet's send budget caps the whole overlay at a few objects per second).
        case flood
        /// Plumtree: objects pushed over a spanning tree of eager links, ids announced over the
        /// rest; about one copy per node per object.
        case tree
    }

    /// How objects spread. Default `tree`.
    public var dissemination: Dissemination = .tree
    /// How long an id announced over a lazy link waits for its pushed copy before the announcer is
    /// grafted, while no link has measured a round trip; after that the links' median
    /// retransmission timeout (RFC 6298) sets it, within 1 s…`requestTimeout`. Counted in whole
    /// seconds (the repair clock's unit). Default 2 s.
    public var graftTimeout: Duration = .seconds(2)
    /// Duplicates in a row, with no first copy between them, that prune an eager link. 1 is
    /// Plumtree's rule; more keeps links that are some other publisher's fastest path (§15).
    public var pruneAfterDuplicates: Int = 3
    /// With `tree`, a node prunes no link while it has this many eager links or fewer: a few
    /// more eager links make shorter paths (lower latency) for some duplicates. 0 is Plumtree's
    /// pure tree. Default 3: measured, a shallower eager graph both halves the latency and
    /// raises the sustained rate (spec/pubsub.md §12). The floor is soft: a link that brings
    /// only duplicates, three runs' worth in a row, goes anyway, down to 2 eager links.
    public var keepEagerLinks: Int = 3
    /// With `tree`, packets per second a node may spend pushing each object over eager links
    /// beyond what its floor needs (spec/pubsub.md §15 rule 9): nym-client sends a cover packet
    /// in every slot of its ~50 packets/s stream that no real packet fills, so at low load more
    /// eager links, hence a shallower tree and lower latency, cost no extra bandwidth. The node
    /// keeps `1 + spareSendBudget / rate` eager links (rate: packets per second of new objects,
    /// the same at every node), within `keepEagerLinks…maxEagerLinks`, and never more than
    /// `keepEagerLinks` over hidden links (each copy costs a reply SURB). 0 keeps the floor.
    /// Default 16, a third of nym-client's stream: 8 eager links up to ~2 objects/s, the floor
    /// from 8 objects/s.
    public var spareSendBudget: Double = 16
    /// With `tree`, how many stripes objects are split into by id, each spread over a tree of
    /// its own (SplitStream; spec/pubsub.md §15). Each node is interior (keeps `keepEagerLinks`)
    /// in one stripe, its home stripe, and a leaf (keeps `leafEagerLinks`) in the others, so
    /// the copies a node forwards are spread over every node instead of a tree's branching
    /// nodes. Every node of an overlay should use the same count (with different counts objects
    /// still arrive, but a `prune` for a stripe the peer does not have changes nothing there, so
    /// duplicates keep coming). Default 2: at 25 objects/s one tree's busiest nodes spend nearly
    /// all of their nym-client's pace, two stripes spread that forwarding over every node, and
    /// at half that rate their p99 latency is a seventh of one tree's (spec/pubsub.md §12).
    /// 1 is one tree, every node interior.
    public var treeStripes: Int = 2
    /// With `tree`, eager links a node keeps in the stripes it is a leaf of (and a hidden node
    /// in all): the one that brings the objects in. Never more than `keepEagerLinks`. Default 1.
    public var leafEagerLinks: Int = 1
    /// With `tree` and stripes, whether a leaf of a stripe prunes its idle eager links (its
    /// children) when the load leaves no spare budget, so that they find a parent interior in
    /// that stripe (spec/pubsub.md §15 rule 11). Default true.
    public var leafShedsChildren = true
    /// With `tree` and stripes, whether a leaf of a stripe answers a graft there with `prune`
    /// (once per grafter) when the load leaves no spare budget, so that the grafter finds a
    /// parent interior in that stripe at once (spec/pubsub.md §15 rule 12). Default true.
    public var leafRefusesGrafts = true
    /// With `tree`, the stripe this node is interior in; nil picks one at random when the
    /// topic layer starts (SplitStream's node ids do the same).
    public var homeStripe: Int? = nil
    /// With `tree`, eager links at most however low the load (rule 9). Default 8, Bitcoin's
    /// outbound count: at low load the tree pushes like flooding does.
    public var maxEagerLinks: Int = 8
    /// With `tree`, a lazy link hears announcements every this many heartbeats (each `inv` then
    /// covers the windows since the last one): ids-only traffic is the tree's overhead. Default 2.
    public var lazyAnnounceEvery: Int = 2
    /// With `tree`, a lazy link hears announcements every this many heartbeats instead of
    /// `lazyAnnounceEvery` while the load leaves no spare send budget (rule 9's target in the
    /// home stripe is its floor; spec/pubsub.md §15 rule 7): at low load an `inv` takes a slot
    /// nym-client would fill with a cover packet anyway, at high load every `inv` takes one from
    /// the objects. Each id is still announced at two turns. Default 4.
    public var lazyAnnounceEveryAtLoad: Int = 4
    /// With `tree`, at most this many lazy links hear announcements per heartbeat on average:
    /// with more lazy links, each hears them less often (the turns stretch), so ids-only traffic
    /// stays within a few packets per second however many links a node keeps. Default 3.
    public var lazyAnnouncementsPerHeartbeat: Int = 3
    /// With `tree`, an eager link (objects are pushed over it) hears announcements every this
    /// many heartbeats: only to recover a push the mixnet lost where no lazy link would. Default 8.
    public var eagerAnnounceEvery: Int = 8

    /// Largest payload this node publishes or delivers. Default 64 KiB.
    public var maxPayloadBytes: Int = 64 * 1024
    /// Largest object this node accepts from a peer. Default and ceiling: 96 KiB.
    public var maxObjectBytes: Int = TopicObject.protocolMaxBytes
    /// Object sizes to pad to.
    public var buckets: SizeBuckets = .default
    /// How long an id stays in the seen cache (whole seconds). Default 20 min.
    public var seenWindow: Duration = .seconds(20 * 60)
    /// Most ids in the seen cache. Default 98 304 = ¾ · 2¹⁷, which fills a 2¹⁷-bucket hash table
    /// exactly (≈ 8.1 MB, 83 bytes per id). At 20 minutes that is 82 new objects per second,
    /// above the ~50 packets per second a Nym client can receive at all.
    public var seenCapacity: Int = 98_304
    /// Objects whose timestamp is more than this far in the past are refused (whole seconds).
    /// Default 15 min.
    public var maxAge: Duration = .seconds(15 * 60)
    /// Objects whose timestamp is more than this far in the future are refused (whole seconds).
    /// Default 2 min.
    public var maxFuture: Duration = .seconds(2 * 60)
    /// Publishes kept while no peer is connected. Default 256.
    public var maxQueuedObjects: Int = 256
    /// Bytes of objects kept while no peer is connected. Default 4 MiB.
    public var maxQueuedBytes: Int = 4 * 1024 * 1024
    /// Deliveries buffered per subscription before further ones are counted as overflow. Default 1024.
    public var subscriptionBuffer: Int = 1024
    /// Largest object a batch publish packs several payloads into (`publish(batch:to:)`): batch
    /// objects are at most the largest bucket not above it. Default 16 KiB, the third bucket
    /// (≈ 11 Nym packets); at least the smallest bucket, at most 96 KiB.
    public var batchTargetBytes: Int = 16 * 1024
    /// Author key used when a publish does not choose one. Default none.
    public var defaultAuthor: AuthorMode = .none
    /// Secret from which author keys derive; random per process unless the node persists one.
    public var authorSecret: SecureBytes = SecureBytes(randomCount: 32)

    // Gossip repair (spec/pubsub.md "Repair").

    /// Time between repair heartbeats (gossipsub: 1 s), jittered by ±`heartbeatJitter`. nil
    /// runs no timer: the owner calls `heartbeat()` itself (tests do, with a manual clock).
    public var heartbeatInterval: Duration? = .seconds(1)
    /// Catch-up sync limits (spec/pubsub.md §16); used once an archive is set (`useArchive`).
    public var sync = SyncSettings()
    /// Relative jitter of each heartbeat interval. Default 0.1 (±10 %).
    public var heartbeatJitter: Double = 0.1
    /// Oldest heartbeat window announced, in heartbeats ago (gossipsub's `mcache_gossip`: 3).
    public var gossipHistory: Int = 3
    /// Newest heartbeat windows not announced yet: their objects are probably still in flight
    /// over the mixnet. Default 1.
    public var gossipDelay: Int = 1
    /// How long an accepted object's bytes stay in the message cache for `getdata` (whole
    /// seconds). Default 2 min, so a node that links (or relinks after churn) catches up on the
    /// last 2 minutes.
    public var messageCacheWindow: Duration = .seconds(120)
    /// Most objects in the message cache. Default 4096.
    public var messageCacheCapacity: Int = 4096
    /// Most bytes of objects in the message cache. Default 32 MiB.
    public var messageCacheBytes: Int = 32 * 1024 * 1024
    /// How long a `getdata` may go unanswered before another announcer is asked (whole seconds;
    /// Bitcoin Core's `GETDATA_TX_INTERVAL` is 60 s; a mixnet round trip is ~1–2 s). Default 10 s.
    public var requestTimeout: Duration = .seconds(10)
    /// Requests in flight to one peer. Default 200: each answer is a message on that link, and a
    /// node closes a link whose peer sends more than 500 at once (spec/node.md), so we never ask
    /// for more than fits under that burst next to ordinary traffic.
    public var maxRequestsPerPeer: Int = 200
    /// Ids wanted at once, requested or waiting for a free announcer; more are ignored. Default 8192.
    public var maxRequests: Int = 8192

    /// Longest a received message waits for a missing predecessor of its publisher before the
    /// gap is skipped (spec/broker.md "Order"). Default 2 s: about three times the local
    /// mixnet's spread.
    public var orderHold: Duration = .seconds(2)

    /// The reorder buffer's bounds: ``orderHold`` and spec/broker.md's defaults.
    var orderLimits: PublisherOrderLimits {
        let (seconds, attoseconds) = orderHold.components
        return PublisherOrderLimits(maxHold: Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The defaults.
    public init() {}

    /// Throws `invalidConfiguration` naming the first field that breaks its rule and the values
    /// it may take (``FieldCheck``).
    public func validate() throws(PubSubError) {
        let check = FieldCheck<PubSubError>("PubSubConfiguration", .invalidConfiguration)
        let minimumObject = TopicObject.overhead + ObjectPlaintext.minimumLength
        try check.within("maxObjectBytes", maxObjectBytes, minimumObject...TopicObject.protocolMaxBytes)
        try check.within("maxPayloadBytes", maxPayloadBytes, 0...buckets.maxPayload(withAuthor: true))
        // Timestamps are minutes: anything shorter than one would refuse fresh objects.
        try check.atLeast("maxAge", maxAge, .seconds(60))
        try check.atLeast("maxFuture", maxFuture, .seconds(60))
        try check.atLeast("seenWindow", seenWindow, max(.seconds(600), maxAge + maxFuture))
        try check.within("orderHold", orderHold, .zero...(.seconds(60)))
        try check.atLeast("seenCapacity", seenCapacity, 1)
        try check.atLeast("maxQueuedObjects", maxQueuedObjects, 0)
        try check.atLeast("maxQueuedBytes", maxQueuedBytes, 0)
        try check.atLeast("subscriptionBuffer", subscriptionBuffer, 1)
        try check.within("batchTargetBytes", batchTargetBytes, (buckets.sizes.first ?? 0)...TopicObject.protocolMaxBytes)
        try check.require(authorSecret.count == 32, "authorSecret", "\(authorSecret.count) bytes", allowed: "32 bytes")
        if let heartbeatInterval { try check.above("heartbeatInterval", heartbeatInterval, .zero) }
        try check.require(heartbeatJitter >= 0 && heartbeatJitter < 1, "heartbeatJitter", heartbeatJitter, allowed: "0..<1")
        try check.atLeast("gossipDelay", gossipDelay, 0)
        try check.atLeast("gossipHistory", gossipHistory, gossipDelay + 1)
        try check.atLeast("pruneAfterDuplicates", pruneAfterDuplicates, 1)
        try check.atLeast("keepEagerLinks", keepEagerLinks, 0)
        try check.within("spareSendBudget", spareSendBudget, 0...1000)
        try check.atLeast("maxEagerLinks", maxEagerLinks, keepEagerLinks)
        try check.within("treeStripes", treeStripes, 1...8)
        try check.atLeast("leafEagerLinks", leafEagerLinks, 0)
        if let homeStripe { try check.within("homeStripe", homeStripe, 0...(treeStripes - 1)) }
        try check.atLeast("lazyAnnounceEvery", lazyAnnounceEvery, 1)
        try check.atLeast("lazyAnnounceEveryAtLoad", lazyAnnounceEveryAtLoad, 1)
        try check.atLeast("eagerAnnounceEvery", eagerAnnounceEvery, 1)
        try check.atLeast("lazyAnnouncementsPerHeartbeat", lazyAnnouncementsPerHeartbeat, 1)
        try check.atLeast("requestTimeout", requestTimeout, .seconds(1))
        try check.within("graftTimeout", graftTimeout, .seconds(1)...requestTimeout)
        try check.atLeast("messageCacheWindow", messageCacheWindow, .seconds(1))
        try check.atLeast("messageCacheCapacity", messageCacheCapacity, 0)
        try check.atLeast("messageCacheBytes", messageCacheBytes, 0)
        try check.atLeast("maxRequestsPerPeer", maxRequestsPerPeer, 1)
        try check.atLeast("maxRequests", maxRequests, 1)
        try sync.validate()
    }
}
