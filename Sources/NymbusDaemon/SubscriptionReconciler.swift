import Logging
import NymbusBroker
import NymbusNode
import NymbusPubSub

/// Keeps the topic layer subscribed to exactly the channels this node needs: those local
/// clients listen to (by name, or by a pattern matching a channel the node knows of) and those
/// the broker keeps a stream for. What arrives for them goes to the broker.
///
/// Channel names are topic names (`ChannelName`). Pattern subscriptions match the channels this
/// node knows of (named by a local SUBSCRIBE, PUBLISH, XADD or NYMBUS.JOIN): objects carry no
/// topic name, so a public topic nobody here ever named cannot be discovered, by design.
actor SubscriptionReconciler {
    typealias Deliver = @Sendable (_ channel: [UInt8], _ payload: [UInt8]) async -> Int
    typealias DeliverEntry = @Sendable (_ channel: [UInt8], _ fields: [[UInt8]]) async -> Int

    private let pubsub: PubSub<Node>
    private let directory: ChannelDirectory
    private let maxPayloadBytes: Int
    private let logger: Logger
    private var deliver: Deliver?
    private var deliverEntry: DeliverEntry?
    private var knownPublic: Set<[UInt8]> = []
    private var interest: (channels: Set<[UInt8]>, patterns: Set<[UInt8]>) = ([], [])
    /// Channels the broker keeps a stream for: listened to like subscribed channels.
    private(set) var streamChannels: Set<[UInt8]> = []
    private var active: [[UInt8]: SinkSubscription] = [:]
    /// Stream entry objects (type 2) that did not decode: dropped, counted.
    private(set) var malformedStreamEntries = 0
    /// Bound on remembered public channel names, so a client cannot grow this without limit.
    static let maxKnownChannels = 10_000

    init(pubsub: PubSub<Node>, directory: ChannelDirectory, maxPayloadBytes: Int, logger: Logger) {
        self.pubsub = pubsub
        self.directory = directory
        self.maxPayloadBytes = maxPayloadBytes
        self.logger = logger
    }

    /// Where deliveries go (the broker); subscribing starts here.
    func attach(deliver: @escaping Deliver, deliverEntry: @escaping DeliverEntry) async {
        self.deliver = deliver
        self.deliverEntry = deliverEntry
        await reconcile()
    }

    /// Channels the topic layer is subscribed to, sorted.
    var subscribedChannels: [[UInt8]] { active.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    /// The broker's new interest (channels and patterns with local subscribers).
    func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async {
        interest = (channels, patterns)
        for channel in channels { await remember(channel) }
        await reconcile()
    }

    /// The broker's new set of stream keys.
    func streamsChanged(_ channels: Set<[UInt8]>) async {
        streamChannels = channels
        for channel in channels { await remember(channel) }
        await reconcile()
    }

    /// Remembers a public channel name so patterns can match it.
    func remember(_ channel: [UInt8]) async {
        // Names over 255 bytes are not remembered for patterns: 10,000 of them could hold
        // hundreds of megabytes. Subscribing to one by name works as for any other.
        guard !ChannelName.isPrivate(channel), channel.count <= ChannelName.maxLength, !knownPublic.contains(channel)
        else { return }
        if knownPublic.count >= Self.maxKnownChannels, let unused = knownPublic.first(where: { active[$0] == nil }) {
            knownPublic.remove(unused)
        }
        knownPublic.insert(channel)
        if !interest.patterns.isEmpty { await reconcile() }
    }

    /// Ends every subscription (the node is stopping).
    func stop() async {
        for (_, subscription) in active { await pubsub.unsubscribe(subscription) }
        active.removeAll()
        deliver = nil
    }

    /// Subscribes the topic layer to every channel some local client listens to, directly or by
    /// pattern, or keeps a stream of, and unsubscribes the rest.
    func reconcile() async {
        guard let deliver else { return }
        let joined = directory.joinedChannels
        let candidates = knownPublic.union(joined)
        var wanted = interest.channels.union(streamChannels).filter { !ChannelName.isPrivate($0) || joined.contains($0) }
        for channel in candidates where interest.patterns.contains(where: { RedisGlob.matches(pattern: $0, string: channel) }) {
            wanted.insert(channel)
        }
        for (channel, subscription) in active where !wanted.contains(channel) {
            active[channel] = nil
            await pubsub.unsubscribe(subscription)
        }
        for channel in wanted where active[channel] == nil {
            guard let topic = try? directory.topic(for: channel) else { continue }
            // The broker already delivered this node's own publishes to its subscribers. The topic
            // layer awaits each delivery, so what it accepts reaches the broker's per-subscriber
            // output (where the slow-subscriber rule applies) and is never dropped on the way.
            let deliverEntry = self.deliverEntry
            let maxItem = maxPayloadBytes
            let subscription = await pubsub.subscribe(topic, includeOwn: false) { [weak self] delivery in
                if delivery.objectType == ObjectType.streamEntry {
                    // An XADD elsewhere: its field/value pairs (spec/pubsub.md §5.2).
                    guard let fields = try? StreamEntryPayload.decode(delivery.payload, maxItem: maxItem) else {
                        await self?.countMalformedStreamEntry()
                        return
                    }
                    _ = await deliverEntry?(channel, fields)
                } else {
                    _ = await deliver(channel, delivery.payload)
                }
            }
            // Another reconcile may have run while this one waited: keep one subscription per channel.
            if active[channel] != nil {
                await pubsub.unsubscribe(subscription)
                continue
            }
            active[channel] = subscription
        }
    }

    private func countMalformedStreamEntry() {
        malformedStreamEntries += 1
        logger.debug("dropped a stream entry object that does not decode")
    }
}
