public import Logging
import NymbusCrypto
import NymbusTransport
public import NymbusWire

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The topic layer of one node: subscriptions, publishing, and the flood router.
///
/// Incoming objects go through `ObjectRouter` (validate → dedup), are forwarded to every peer
/// but the sender, and are delivered to local subscriptions if this node holds the topic. A
/// node relays every valid object whether it is a member or not, and does the same work on the
/// wire either way, so its traffic does not reveal what it subscribes to. Gossip repair
/// (`PubSub+Repair.swift`, spec/pubsub.md §14) recovers objects a link lost.
public actor PubSub<Network: ObjectNetwork> {
    struct TopicState {
        let topic: Topic
        var subscribers: [UInt64: AsyncStream<Delivery>.Continuation] = [:]
        /// Sinks, and whether each wants this node's own publishes too.
        var sinks: [UInt64: (sink: DeliverySink, includeOwn: Bool)] = [:]

        var isEmpty: Bool { subscribers.isEmpty && sinks.isEmpty }
    }

    /// What to do with a publish while no peer is linked and the held queue is full.
    public enum WhenHeldFull: Sendable {
        /// Refuse it with `queueFull` (the caller learns at once).
        case refuse
        /// Wait until a peer links and the held queue has room (the caller is slowed instead).
        case wait
    }

    private struct PendingPublish {
        var object: TopicObject
        var bytes: [UInt8]
        let topic: Topic
        let payload: [UInt8]
        let author: AuthorMode
        /// Its publishers' runs, kept when it is sealed again.
        var order: [PublisherRun] = []
    }

    let network: Network
    let configuration: PubSubConfiguration
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let authorKeys: AuthorKeys
    var router: ObjectRouter
    var topics: [TopicID: TopicState] = [:]
    private var registry = PayloadTypes()
    private var pending: [PendingPublish] = [] {
        didSet { pendingChanged = true }
    }
    private var pendingBytes = 0
    /// Where held publishes are kept across restarts (`keepHeldPublishes(in:)`), if anywhere.
    private var heldFile: HeldPublishFile?
    private var pendingChanged = false
    private var flushing = false
    private var nextSubscriptionID: UInt64 = 1
    /// Publishers waiting for room in the held queue (`WhenHeldFull.wait`).
    private var heldRoomWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set by `shutdown()`: nothing waits any more.
    private var closing = false
    /// Whether a subscription overflow was logged (once per process: the counter tells the rest).
    private var overflowLogged = false
    var stats = PubSubStatistics()
    /// Gossip repair state (`PubSub+Repair.swift`).
    var repair: GossipRepair<Network.Peer>
    var repairStarted = false
    /// Eager and lazy links, per stripe (`dissemination == .tree`).
    var trees: StripedTrees<Network.Peer>
    /// How many eager links the tree keeps at the load measured (`dissemination == .tree`).
    var eagerTarget: EagerTarget
    var heartbeatTask: Task<Void, Never>?
    /// Received messages put back in their publishers' order (`PubSub+Order.swift`).
    var publisherOrder: PublisherOrder<OrderKey, OrderedEntry>
    /// Released ordered messages waiting for the one delivery loop, and callers waiting for it.
    var orderOutbox: [OrderedEntry] = []
    var orderDelivering = false
    var orderDeliveryWaiters: [CheckedContinuation<Void, Never>] = []
    var orderTimer: Task<Void, Never>?
    /// This node's ordered publishers: tag and next number per (publisher, topic).
    var publisherSequences = PublisherSequences()
    /// Monotonic seconds, for holding gaps.
    let monotonicClock: @Sendable () -> Double
    /// Catch-up sync (`PubSub+Sync.swift`): the archive of accepted objects, if any, and the state.
    var archive: (any ObjectArchive)?
    var sync: SyncState<Network.Peer>
    var syncStarted = false
    var syncTask: Task<Void, Never>?

    /// The system clock in Unix seconds.
    public static var systemClock: @Sendable () -> Int64 { { Int64(Date().timeIntervalSince1970) } }

    /// A topic layer over `network`.
    ///
    /// - Parameters:
    ///   - network: sends objects to peers (the `Node`).
    ///   - configuration: limits and defaults; checked by `validate()`.
    ///   - logger: receives drops and penalties at debug level, never secrets or payloads.
    ///   - clock: wall-clock Unix seconds (injected so tests can move time).
    public init(
        network: Network, configuration: PubSubConfiguration = PubSubConfiguration(),
        logger: Logger = Logger(label: "nymbus.pubsub"), clock: @escaping @Sendable () -> Int64 = PubSub.systemClock
    ) throws(PubSubError) {
        try configuration.validate()
        self.network = network
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.authorKeys = try AuthorKeys(secret: configuration.authorSecret)
        self.router = ObjectRouter(configuration: configuration)
        self.repair = GossipRepair(configuration: configuration)
        self.trees = StripedTrees(
            stripes: configuration.treeStripes,
            home: configuration.homeStripe ?? Int.random(in: 0..<configuration.treeStripes),
            pruneAfter: configuration.pruneAfterDuplicates)
        self.eagerTarget = EagerTarget(
            floor: configuration.keepEagerLinks, ceiling: configuration.maxEagerLinks,
            budget: configuration.spareSendBudget)
        if configuration.dissemination == .tree { repair.requestDelay = configuration.graftTimeout.wholeSeconds }
        self.publisherOrder = PublisherOrder(limits: configuration.orderLimits)
        let start = ContinuousClock.now
        self.monotonicClock = {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        self.sync = SyncState(settings: configuration.sync)
    }

    deinit {
        heartbeatTask?.cancel()
        orderTimer?.cancel()
        syncTask?.cancel()
        for state in topics.values { for c in state.subscribers.values { c.finish() } }
    }

    // MARK: Subscriptions

    /// Subscribes to `topic`: every object published to it from now on, by anyone including
    /// this node, arrives once on the returned stream.
    public func subscribe(_ topic: Topic) -> Subscription {
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        let (stream, continuation) = AsyncStream.makeStream(
            of: Delivery.self, bufferingPolicy: .bufferingOldest(configuration.subscriptionBuffer))
        topics[topic.id, default: TopicState(topic: topic)].subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeSubscriber(id, topic: topic.id) }
        }
        return Subscription(id: id, topic: topic, stream: stream)
    }

    /// Subscribes `sink` to `topic`: every object published to it from now on (this node's own
    /// only with `includeOwn`) is handed to the sink once, in the order the topic layer accepted
    /// them. The topic layer awaits the sink, so nothing is buffered or dropped on the way: a
    /// slow sink slows the layer (and, through the node, the links) instead.
    public func subscribe(_ topic: Topic, includeOwn: Bool = true, sink: @escaping DeliverySink) -> SinkSubscription {
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        topics[topic.id, default: TopicState(topic: topic)].sinks[id] = (sink, includeOwn)
        return SinkSubscription(id: id, topicID: topic.id)
    }

    /// Ends a sink subscription; its sink gets nothing more.
    public func unsubscribe(_ subscription: SinkSubscription) {
        topics[subscription.topicID]?.sinks[subscription.id] = nil
        if topics[subscription.topicID]?.isEmpty == true { topics[subscription.topicID] = nil }
    }

    /// Subscribes to the public topic `name`.
    public func subscribe(name: String) -> Subscription { subscribe(Topic.named(name)) }

    /// Subscribes to the topic of an invite string (private or public).
    /// - Throws: `invalidInvite` if the invite does not check out.
    public func subscribe(invite: String) throws(PubSubError) -> Subscription { subscribe(try Topic(invite: invite)) }

    /// Ends one subscription; its stream finishes.
    public func unsubscribe(_ subscription: Subscription) {
        topics[subscription.topic.id]?.subscribers[subscription.id]?.finish()
        removeSubscriber(subscription.id, topic: subscription.topic.id)
    }

    /// Ends every subscription to `topic`.
    public func unsubscribe(topic: Topic) {
        guard let state = topics.removeValue(forKey: topic.id) else { return }
        for c in state.subscribers.values { c.finish() }
    }

    /// Topics with at least one subscription.
    public var subscribedTopics: [Topic] { topics.values.map(\.topic) }

    private func removeSubscriber(_ id: UInt64, topic: TopicID) {
        topics[topic]?.subscribers[id] = nil
        if topics[topic]?.isEmpty == true { topics[topic] = nil }
    }

    // MARK: Types

    /// Registers a custom type so it can be published and is decoded into `Delivery.value`.
    public func register<T: WireCodable>(_ type: T.Type) throws(PubSubError) {
        try registry.register(type)
    }

    // MARK: Publishing

    /// Publishes raw bytes (or bytes of a type the caller encoded) to `topic`.
    ///
    /// The object is delivered to this node's own subscriptions, then sent to every peer. With
    /// no peer connected it is held (bounded) and sent when the first link comes up.
    /// - Throws: `payloadTooLarge` above `maxPayloadBytes`; `queueFull` if it cannot be held;
    ///   `reservedType` for `ObjectType.rawBytesBatch` (use `publish(batch:to:author:)`).
    @discardableResult
    public func publish(
        _ payload: [UInt8], to topic: Topic, type: UInt32 = ObjectType.rawBytes, author: AuthorMode? = nil
    ) async throws(PubSubError) -> PublishResult {
        guard type != ObjectType.rawBytesBatch else {
            throw PubSubError(.reservedType, "batch objects are made by publish(batch:to:), not from raw bytes")
        }
        guard payload.count <= configuration.maxPayloadBytes else {
            throw PubSubError(
                .payloadTooLarge,
                "payload of \(payload.count) bytes exceeds the limit of \(configuration.maxPayloadBytes)")
        }
        let mode = author ?? configuration.defaultAuthor
        let now = clock()
        let object = try seal(payload, type: type, topic: topic, author: mode, now: now)
        let (id, sent, local) = try await emit(
            object, payload: payload, entries: [payload], topic: topic, author: mode, now: now)
        return PublishResult(messageID: id, transmissions: sent, queued: sent == 0, localDeliveries: local.first ?? 0)
    }

    /// Publishes several raw-bytes payloads to `topic`, in order, packing consecutive ones into
    /// as few `rawBytesBatch` objects as the mixnet carries cheapest (spec/pubsub.md §5.1):
    /// one seal, one membership signature and one object for many small messages.
    ///
    /// Objects hold runs of consecutive payloads (never reordered) and a batch object is at most
    /// `batchTargetBytes`; a payload alone in its run is a plain type-0 object, exactly as
    /// `publish(_:to:)` would make it. Objects are sealed, sent (or held) and delivered locally
    /// one after the other, so local subscriptions see the payloads in this order.
    ///
    /// - Returns: one result per payload, in the order given. A success carries the id of the
    ///   payload's object, its `batchIndex` and `batchCount` there, the object's transmissions
    ///   (shared by every payload of that object) and the payload's local deliveries. Failures are
    ///   per payload and never stop the others: `payloadTooLarge` for a payload over
    ///   `maxPayloadBytes` (checked before anything is sealed; it is left out and the payloads
    ///   around it may share an object), `queueFull` for every payload of an object that no peer
    ///   could take and the held queue could not hold.
    /// - Parameters:
    ///   - deliverLocally: false when the caller has delivered the payloads to its own local
    ///     receivers already (the broker does): this node's subscriptions then get nothing and
    ///     `localDeliveries` is 0.
    ///   - publisher: who publishes (a broker connection's id): receivers keep the order of one
    ///     publisher's messages on a topic (spec/broker.md "Order"); nil leaves them unnumbered.
    ///   - publishers: the publisher of each payload instead (one object may carry several
    ///     publishers' runs; each publisher's payloads keep their order).
    @discardableResult
    public func publish(
        batch payloads: [[UInt8]], to topic: Topic, author: AuthorMode? = nil, whenHeldFull: WhenHeldFull = .refuse,
        deliverLocally: Bool = true, publisher: UInt64? = nil, publishers: [UInt64]? = nil
    ) async
        -> [Result<PublishResult, PubSubError>]
    {
        var results = [Result<PublishResult, PubSubError>?](repeating: nil, count: payloads.count)
        var fitting: [Int] = []
        fitting.reserveCapacity(payloads.count)
        for (index, payload) in payloads.enumerated() {
            if payload.count <= configuration.maxPayloadBytes {
                fitting.append(index)
            } else {
                results[index] = .failure(
                    PubSubError(
                        .payloadTooLarge,
                        "payload of \(payload.count) bytes exceeds the limit of \(configuration.maxPayloadBytes)"))
            }
        }
        let mode = author ?? configuration.defaultAuthor
        let planner = BatchPlanner(
            buckets: configuration.buckets, targetBytes: configuration.batchTargetBytes, withAuthor: mode != .none)
        let owners = publishers ?? publisher.map { [UInt64](repeating: $0, count: payloads.count) }
        let objects = planner.plan(fitting.map { payloads[$0].count }).flatMap { run in
            PublisherSequences.split(Array(fitting[run]), owners: owners, maxRuns: ObjectPlaintext.maxRuns)
        }
        for indices in objects {
            let entries = indices.map { payloads[$0] }
            let now = clock()
            do throws(PubSubError) {
                let body = entries.count == 1 ? entries[0] : BatchPayload.encode(entries)
                let type = entries.count == 1 ? ObjectType.rawBytes : ObjectType.rawBytesBatch
                let order = owners.map { publisherSequences.runs(indices, owners: $0, topic: topic.id) } ?? []
                let object = try seal(body, type: type, topic: topic, author: mode, now: now, order: order)
                let (id, sent, local) = try await emit(
                    object, payload: body, entries: entries, topic: topic, author: mode, now: now,
                    whenHeldFull: whenHeldFull, deliverLocally: deliverLocally, order: order)
                if entries.count > 1 {
                    stats.publishedBatches += 1
                    stats.batchedPayloads += entries.count
                }
                for (position, index) in indices.enumerated() {
                    results[index] = .success(
                        PublishResult(
                            messageID: id, transmissions: sent, queued: sent == 0,
                            localDeliveries: position < local.count ? local[position] : 0, batchIndex: position,
                            batchCount: entries.count))
                }
            } catch {
                for index in indices { results[index] = .failure(error) }
            }
        }
        return results.map { $0 ?? .failure(PubSubError(.cryptoFailure, "payload left out of every object")) }
    }

    /// Records one object of this node as seen, sends it to every peer (or holds it while none is
    /// connected) and delivers `entries` (its payloads) to the local subscriptions.
    /// - Returns: the object's id (a hash of the whole object, computed once here), peers it went
    ///   to now, and local deliveries per entry.
    func emit(
        _ object: TopicObject, payload: [UInt8], entries: [[UInt8]], topic: Topic, author mode: AuthorMode, now: Int64,
        whenHeldFull: WhenHeldFull = .refuse, deliverLocally: Bool = true, order: [PublisherRun] = []
    ) async throws(PubSubError) -> (id: MessageID, sent: Int, localDeliveries: [Int]) {
        let bytes = object.bytes
        let id = object.messageID
        // Before any await: an echo from a peer must already count as a duplicate.
        if router.recordOwn(id, now: now) == .full { stats.droppedCacheFull += 1 }

        await flushPending()
        // The links' queues bound what this node has in flight: wait for room, never drop.
        if pending.isEmpty { await network.waitForSendRoom() }
        var sent = pending.isEmpty ? await push(bytes, id: id, from: nil) : 0
        if sent > 0 { cacheOwn(id, bytes: bytes, now: now) }
        if sent == 0 {
            while !closing, pending.count >= configuration.maxQueuedObjects
                || pendingBytes + bytes.count > configuration.maxQueuedBytes
            {
                guard whenHeldFull == .wait else {
                    throw PubSubError(
                        .queueFull,
                        "no peer is connected and \(pending.count) publishes (\(pendingBytes) bytes) are already waiting")
                }
                stats.heldQueueWaits += 1
                await withCheckedContinuation { heldRoomWaiters.append($0) }
            }
            // A peer may have linked while this waited: send now rather than hold.
            if pending.isEmpty, !closing {
                sent = await push(bytes, id: id, from: nil)
                if sent > 0 { cacheOwn(id, bytes: bytes, now: now) }
            }
        }
        if sent == 0 {
            pending.append(
                PendingPublish(object: object, bytes: bytes, topic: topic, payload: payload, author: mode, order: order))
            pendingBytes += bytes.count
            do { try saveHeld() } catch {
                // Not accepted if it cannot be kept: the caller hears why, nothing goes out.
                pending.removeLast()
                pendingBytes -= bytes.count
                pendingChanged = false
                throw error
            }
            stats.queued += 1
            logger.debug("no peer connected; publish held", metadata: ["waiting": "\(pending.count)"])
        }
        stats.published += 1
        stats.transmissions += sent
        guard deliverLocally else {
            // The caller delivered it to its local receivers: still an object delivered here.
            if topics[object.topicID].map({ !$0.isEmpty }) == true { stats.delivered += 1 }
            return (id, sent, [Int](repeating: 0, count: entries.count))
        }
        let local = await deliver(
            entries, authorKey: authorKeys.key(for: mode, topic: topic.id)?.publicKey,
            object: object, id: id, now: now, isOwn: true)
        return (id, sent, local)
    }

    /// Ends every wait (the node is stopping): publishes that would wait for the held queue are
    /// held beyond its bound instead, and publishes waiting for room on the links go into the
    /// links' queues beyond their bound. Held publishes are on disk too with
    /// `keepHeldPublishes(in:)`, and the next start takes back as many as the bound allows (the
    /// rest are counted, `heldDroppedAtLoad`); anything else no peer takes before the process
    /// ends is lost.
    public func shutdown() async {
        closing = true
        wakeHeldRoomWaiters()
        await network.releaseSendWaiters()
    }

    private func wakeHeldRoomWaiters() {
        let waiters = heldRoomWaiters
        heldRoomWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Publishes a registered custom value.
    /// - Throws: `unregisteredType` unless `T` was registered; otherwise as `publish(_:to:)`.
    @discardableResult
    public func publish<T: WireCodable>(_ value: T, to topic: Topic, author: AuthorMode? = nil)
        async throws(PubSubError)
        -> PublishResult
    {
        guard registry.isRegistered(T.self) else {
            throw PubSubError(.unregisteredType, "\(T.self) (type \(T.wireTypeID)) is not registered")
        }
        return try await publish(value.serializedBytes(), to: topic, type: T.wireTypeID, author: author)
    }

    /// Publishes waiting for a peer.
    public var pendingPublishes: Int { pending.count }

    /// Keeps the publishes held while no peer is linked in `directory` (`held-publishes.json`,
    /// rewritten atomically at every change), and takes back those a previous run left there
    /// (after a clean stop or a crash); they go out when a peer links. Returns how many.
    ///
    /// - Throws: `persistence` if the file cannot be read or is corrupt (it is set aside first).
    @discardableResult
    public func keepHeldPublishes(in directory: String) throws(PubSubError) -> Int {
        let file = HeldPublishFile(directory: directory)
        let now = clock()
        let loaded = try file.load(now: now, maxObjectBytes: configuration.maxObjectBytes)
        heldFile = file
        var taken = 0
        for held in loaded {
            let bytes = held.object.bytes
            guard pending.count < configuration.maxQueuedObjects,
                pendingBytes + bytes.count <= configuration.maxQueuedBytes
            else {
                stats.heldDroppedAtLoad += 1
                continue
            }
            _ = router.recordOwn(held.object.messageID, now: now)
            pending.append(
                PendingPublish(
                    object: held.object, bytes: bytes, topic: held.topic, payload: held.payload, author: held.author,
                    order: held.order))
            pendingBytes += bytes.count
            taken += 1
        }
        if taken < loaded.count {
            logger.error(
                "held publishes over the queue's bounds were dropped",
                metadata: ["dropped": "\(loaded.count - taken)", "file": "\(file.path)"])
        }
        if taken > 0 { logger.info("held publishes from the last run are waiting for a peer", metadata: ["count": "\(taken)"]) }
        try saveHeld()
        return taken
    }

    /// Rewrites the held-publish file if the queue changed since the last write.
    private func saveHeld() throws(PubSubError) {
        guard let heldFile, pendingChanged else { return }
        try heldFile.save(
            pending.map {
                HeldPublishFile.Held(
                    object: $0.object, topic: $0.topic, payload: $0.payload, author: $0.author, order: $0.order)
            })
        pendingChanged = false
    }

    /// `saveHeld` for paths that cannot throw: a failed write is logged (the queue itself is intact).
    private func saveHeldLogging() {
        do { try saveHeld() } catch {
            logger.error("held publishes not written", metadata: ["error": "\(error.reason)"])
        }
    }

    /// Call when a peer link comes up: sends the publishes held while no peer was connected, and
    /// starts gossip repair if nothing started it yet (see `peerConnected(_:)` for the catch-up).
    public func peerConnected() async {
        await start()
        await flushPending()
    }

    func flushPending() async {
        // One flush at a time: a second caller (a publish, another link) would otherwise send
        // the same head object again while the first awaits the network.
        guard !flushing else { return }
        flushing = true
        defer { flushing = false }
        while !pending.isEmpty {
            var item = pending[0]
            let now = clock()
            if now - item.object.timestampSeconds > configuration.maxAge.wholeSeconds / 3 {
                // Old enough that far peers might refuse it: seal it again with a fresh time.
                do {
                    item.object = try seal(
                        item.payload, type: item.object.objectType, topic: item.topic, author: item.author, now: now,
                        order: item.order)
                } catch {
                    logger.error("re-sealing a held publish failed", metadata: ["error": "\(error)"])
                    pendingBytes -= item.bytes.count
                    pending.removeFirst()
                    saveHeldLogging()
                    continue
                }
                pendingBytes -= item.bytes.count
                item.bytes = item.object.bytes
                pendingBytes += item.bytes.count
                pending[0] = item
                _ = router.recordOwn(item.object.messageID, now: now)
                stats.resealed += 1
                saveHeldLogging()
            }
            let sent = await push(item.bytes, id: item.object.messageID, from: nil)
            guard sent > 0 else { return }
            cacheOwn(item.object.messageID, bytes: item.bytes, now: now)
            // Other work may have run while sending; only this loop removes entries, so the
            // item is still there (found by its bytes in case the queue grew meanwhile).
            if let index = pending.firstIndex(where: { $0.bytes == item.bytes }) {
                pendingBytes -= pending[index].bytes.count
                pending.remove(at: index)
            }
            wakeHeldRoomWaiters()
            stats.transmissions += sent
            stats.flushed += 1
            saveHeldLogging()
        }
    }

    func seal(
        _ payload: [UInt8], type: UInt32, topic: Topic, author: AuthorMode, now: Int64, order: [PublisherRun] = []
    ) throws(PubSubError) -> TopicObject {
        try TopicObject.seal(
            payload: payload, objectType: type, topic: topic, timestamp: UInt32(clamping: now / 60),
            author: authorKeys.key(for: author, topic: topic.id),
            buckets: configuration.buckets, order: order)
    }

    // MARK: Relaying

    /// Handles object bytes from `peer`: validate, dedup, forward, deliver.
    public func handleIncoming(object bytes: [UInt8], from peer: Network.Peer) async {
        stats.received += 1
        let now = clock()
        switch router.route(bytes, now: now) {
        case .duplicate(let id):
            count(.duplicate)
            let late = repair.duplicate(id, from: peer, nowMillis: Self.monotonicMillis())
            logger.debug("object dropped", metadata: ["reason": "duplicate", "detail": "\(id)"])
            guard configuration.dissemination == .tree else { return }
            let stripe = trees.stripe(of: id)
            if late {
                stats.latePushes += 1
                trees[stripe].latePush(atMillis: Self.monotonicMillis())
            } else if await pruneOnDuplicate(from: peer, in: stripe) {
                // A copy pushed over an eager link that another path beat: the link turns lazy
                // in the object's stripe.
                if await network.send(.prune(StripeMask(stripe: stripe)), to: peer) { stats.pruneSent += 1 }
            }
        case .drop(let reason, let penalize, let detail):
            count(reason)
            logger.debug("object dropped", metadata: ["reason": "\(reason)", "detail": "\(detail)"])
            if penalize {
                stats.penalties += 1
                // Short and free of ids: the reason may travel to the peer in a `bye`.
                await network.penalizeInvalidObject(from: peer, reason: "invalid object: \(reason)")
            }
        case .accept(let object, let id):
            stats.accepted += 1
            // Relayed byte for byte: nothing in a copy tells how far it came. The repair cache
            // serves the same bytes.
            let fetched = repair.accepted(id, bytes: bytes, from: peer, now: now, nowMillis: Self.monotonicMillis())
            if fetched { stats.repairedObjects += 1 }
            if configuration.dissemination == .tree { trees[id: id].firstCopy(from: peer, fetched: fetched) }
            // Forward first: members and non-members then behave the same on the wire. With the
            // tree, not to peers that announced it (a fetched object's announcers, above all a new
            // link's history: a joining node would otherwise push back every object it catches
            // up on). Flooding keeps its 2E − (N − 1) copies: the baseline.
            let known = configuration.dissemination == .tree ? repair.knownBy(id) : []
            let sent = await push(bytes, id: id, from: peer, skipping: known)
            stats.transmissions += sent
            if sent > 0 { stats.forwarded += 1 }
            await deliverAccepted(object, id: id, now: now)
            archiveAccepted(bytes, id: id, timestamp: object.timestamp)
        }
    }

    /// Opens an accepted object if this node follows its topic and delivers its payloads once
    /// to each local subscription (from a push, repair or catch-up sync), in its publishers'
    /// order when it carries one.
    func deliverAccepted(_ object: TopicObject, id: MessageID, now: Int64) async {
        guard let state = topics[object.topicID] else { return }
        do {
            let (plaintext, entries) = try object.openEntries(with: state.topic, maxPayload: configuration.maxPayloadBytes)
            if !plaintext.order.isEmpty {
                await deliverInOrder(entries, runs: plaintext.order, authorKey: plaintext.author?.key, object: object, id: id, now: now)
            } else {
                await deliver(entries, authorKey: plaintext.author?.key, object: object, id: id, now: now, isOwn: false)
            }
        } catch {
            if error.code == .badAuthorSignature {
                stats.badAuthorSignature += 1
            } else {
                stats.decryptFailed += 1
            }
            logger.debug("object of a subscribed topic did not open", metadata: ["error": "\(error.code)"])
        }
    }

    /// Whether a duplicate from `peer` in `stripe` prunes its link there (`PushTree.duplicate`),
    /// keeping at least the stripe's floor of eager links (`StripedTrees.floor`), and as many as
    /// the spare send budget pays for (`EagerTarget`, rule 9) unless this node is hidden. A
    /// hidden peer's link is pruned like any other: its copies here are duplicates, and each copy
    /// this node pushes to it costs it a reply SURB.
    /// The links are counted only when this duplicate would complete a run: most duplicates
    /// cost no call to the network.
    private func pruneOnDuplicate(from peer: Network.Peer, in stripe: Int) async -> Bool {
        guard trees[stripe].completesRun(from: peer) else { return trees[stripe].duplicate(from: peer) }
        let hidden = await network.isHidden()
        let floor = eagerFloor(of: stripe, hidden: hidden)
        guard floor > 0 || eagerTarget.budget > 0 else { return trees[stripe].duplicate(from: peer) }
        let eager = await network.connectedPeers().filter { trees.isEager($0, in: stripe) }.count
        let spare = hidden ? 0 : eagerTarget.pruneAbove(floor: floor)
        return trees[stripe].duplicate(from: peer, eagerLinks: eager, keepEager: floor, spareEager: spare)
    }

    /// Eager links this node keeps in `stripe`: `keepEagerLinks` in its home stripe,
    /// `leafEagerLinks` in the others and, for a hidden node, in all (`StripedTrees.floor`).
    /// While the load leaves spare budget, a hidden node with stripes keeps two in each
    /// (rule 13): it takes no spare links (each copy pushed to it costs it a reply SURB), and
    /// with one parent per stripe every object it gets waits for that parent; with two, for the
    /// faster, as with one tree. At a load that leaves no spare budget it keeps one.
    func eagerFloor(of stripe: Int, hidden: Bool) -> Int {
        let floor = roleFloor(of: stripe, hidden: hidden)
        guard hidden, trees.count > 1, eagerTarget.leavesSpareBudget(floor: floor) else { return floor }
        return max(floor, min(configuration.keepEagerLinks, Self.hiddenFloorWithSpareBudget))
    }
    /// The floor of this node's role in `stripe` (interior or leaf), before rule 13: the floor
    /// that says whether the load leaves spare budget there.
    func roleFloor(of stripe: Int, hidden: Bool) -> Int {
        trees.floor(of: stripe, interior: configuration.keepEagerLinks, leaf: configuration.leafEagerLinks, hidden: hidden)
    }
    /// A hidden node's floor in each stripe while the load leaves spare budget (rule 13): two
    /// parents, the fewest that take the slower one out of its latency. It is also
    /// `PushTree.hardFloor`, below which duplicates never prune, so the floor is stable.
    static var hiddenFloorWithSpareBudget: Int { 2 }

    /// Counts a new object (published, or accepted to relay) towards the load the eager target
    /// follows: its Sphinx packets on one link.
    private func countNewObject(_ bytes: [UInt8]) {
        guard configuration.dissemination == .tree else { return }
        eagerTarget.arrived(packets: NymPacketSizes.sendPackets(dataCount: Envelope.headerLength + bytes.count))
    }

    /// Sends the object `id` on its way: to every peer but `sender` and the peers `known` to have
    /// it (flood), or to the eager links among them in its stripe (tree). A node of its own
    /// publish with every link of that stripe lazy grafts one, so its object is pushed rather
    /// than only announced. Returns how many links took it.
    func push(_ bytes: [UInt8], id: MessageID, from sender: Network.Peer?, skipping known: Set<Network.Peer> = []) async -> Int {
        countNewObject(bytes)
        let stripe = trees.stripe(of: id)
        var excluded: Set<Network.Peer> = known
        if let sender { excluded.insert(sender) }
        if configuration.dissemination == .tree { excluded.formUnion(trees[stripe].lazy) }
        let took = await network.send(.object(bytes), toAllExcept: excluded).count
        guard took == 0, sender == nil, configuration.dissemination == .tree else { return took }
        // Nothing took this node's own object: if that is because every link is lazy, graft one.
        let connected = await network.connectedPeers()
        guard !connected.contains(where: { trees.isEager($0, in: stripe) }), let peer = connected.randomElement() else { return 0 }
        await graft(peer, in: StripeMask(stripe: stripe))
        return await network.send(.object(bytes), to: [peer]).count
    }

    private func count(_ reason: ObjectRouter.DropReason) {
        switch reason {
        case .oversized: stats.droppedOversized += 1
        case .malformed: stats.droppedMalformed += 1
        case .unsupportedVersion: stats.droppedUnsupportedVersion += 1
        case .tooOld: stats.droppedTooOld += 1
        case .future: stats.droppedFuture += 1
        case .duplicate: stats.duplicates += 1
        case .badSignature: stats.droppedBadSignature += 1
        case .cacheFull: stats.droppedCacheFull += 1
        }
    }

    /// Hands each of an object's payloads (one, or a batch's entries in order) to every local
    /// subscription of its topic: sinks are awaited, streams buffer (bounded, overflow counted).
    /// Returns the subscriptions each payload reached.
    @discardableResult
    private func deliver(
        _ entries: [[UInt8]], authorKey: Ed25519.PublicKey?, object: TopicObject, id: MessageID, now: Int64,
        isOwn: Bool
    ) async -> [Int] {
        guard let state = topics[object.topicID], !state.isEmpty else {
            return [Int](repeating: 0, count: entries.count)
        }
        stats.delivered += 1
        var reached: [Int] = []
        reached.reserveCapacity(entries.count)
        for (index, payload) in entries.enumerated() {
            let entry = OrderedEntry(
                payload: payload, index: index, count: entries.count, author: authorKey, object: object, id: id,
                receivedAt: now)
            reached.append(await deliver(entry, isOwn: isOwn))
        }
        return reached
    }

    /// Hands one payload to every local subscription of its topic; returns how many it reached.
    func deliver(_ entry: OrderedEntry, isOwn: Bool) async -> Int {
        guard let state = topics[entry.topicID], !state.isEmpty else { return 0 }
        var value: (any WireCodable)?
        if !entry.isBatch {
            do { value = try registry.decode(type: entry.objectType, entry.payload) } catch { stats.undecodableValues += 1 }
        }
        let delivery = Delivery(
            topic: state.topic, messageID: entry.id, batchIndex: entry.index, batchCount: entry.count,
            objectType: entry.objectType, payload: entry.payload, author: entry.author, timestamp: entry.timestamp,
            receivedAt: entry.receivedAt, isOwn: isOwn, value: value)
        var handed = 0
        for continuation in state.subscribers.values {
            switch continuation.yield(delivery) {
            case .enqueued: handed += 1
            case .dropped:
                stats.subscriptionOverflow += 1
                if !overflowLogged {
                    overflowLogged = true
                    logger.warning(
                        "a subscription stream is full; deliveries to it are dropped until it is read",
                        metadata: ["buffer": "\(configuration.subscriptionBuffer)"])
                }
            case .terminated: break
            @unknown default: break
            }
        }
        for (sink, includeOwn) in state.sinks.values where includeOwn || !isOwn {
            await sink(delivery)
            handed += 1
        }
        stats.deliveries += handed
        return handed
    }

    // MARK: Inspection

    /// The counters so far.
    public var statistics: PubSubStatistics { stats }

    /// Ids in the seen cache and its approximate memory.
    public var seenCacheUsage: (count: Int, bytes: Int) { (router.seen.count, router.seen.approximateBytes) }
}
