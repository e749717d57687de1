import Logging
import NymbusBroker
import NymbusCrypto
import NymbusNode
import NymbusPubSub
import Synchronization

/// Connects the broker's channels to the topic layer: what local clients publish is sealed and
/// flooded, and what arrives for a channel they listen to is handed back to the broker.
///
/// Channel names are topic names (`ChannelName`). Pattern subscriptions match the channels this
/// node knows of (named by a local SUBSCRIBE, PUBLISH or NYMBUS.JOIN): objects carry no topic
/// name, so a public topic nobody here ever named cannot be discovered, by design.
actor TopicBridge: BrokerBackend {
    typealias Deliver = @Sendable (_ channel: [UInt8], _ payload: [UInt8]) async -> Int
    typealias ExtraCommand = @Sendable (_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue?
    typealias DeliverEntry = @Sendable (_ channel: [UInt8], _ fields: [[UInt8]]) async -> Int

    private let pubsub: PubSub<Node>
    private let logger: Logger
    private var store: TopicStore
    private var deliver: Deliver?
    private let extraCommand: ExtraCommand
    private var knownPublic: Set<[UInt8]> = []
    private var interest: (channels: Set<[UInt8]>, patterns: Set<[UInt8]>) = ([], [])
    private var active: [[UInt8]: SinkSubscription] = [:]
    /// Bound on remembered public channel names, so a client cannot grow this without limit.
    static let maxKnownChannels = 10_000
    /// Channel → topic, answerable on the broker's event loop.
    private nonisolated let directory: ChannelDirectory
    /// Publishes on their way to the topic layer (see ``PublishQueue``).
    private nonisolated let queue: PublishQueue
    /// The topic layer's payload limit, checked before a message is taken.
    private nonisolated let maxPayloadBytes: Int
    private var drainer: Task<Void, Never>?
    /// Messages the broker accepted that the topic layer then refused. The topic layer refuses
    /// nothing for want of room (it waits), so only a sealing failure could count here; logged,
    /// never silent.
    private(set) var lostAfterAcceptance = 0
    /// Channels the broker keeps a stream for: listened to like subscribed channels.
    private var streamChannels: Set<[UInt8]> = []
    /// Where stream entries from the network go (the broker), and the outbox that sends local ones.
    private var deliverEntry: DeliverEntry?
    private var outbox: StreamOutbox?
    private nonisolated let outboxWake = Mutex<(@Sendable () -> Void)?>(nil)
    /// Stream entry objects (type 2) that did not decode: dropped, counted.
    private(set) var malformedStreamEntries = 0
    /// Publishes answered `-ERR` because no peer was linked for longer than `noPeerWait`.
    private nonisolated let refusals = Atomic<Int>(0)
    /// Since when no peer is linked (monotonic nanoseconds), or -1 while one is.
    private nonisolated let unlinkedSince = Atomic<Int64>(0)
    /// How long a publisher may wait for a peer before `PUBLISH` is refused.
    private nonisolated let noPeerWait: Duration

    init(
        pubsub: PubSub<Node>, store: TopicStore, maxPayloadBytes: Int, noPeerWait: Duration = .seconds(30),
        logger: Logger, extraCommand: @escaping ExtraCommand
    ) {
        self.pubsub = pubsub
        self.store = store
        self.directory = ChannelDirectory(joined: store.topics)
        self.queue = PublishQueue()
        self.maxPayloadBytes = maxPayloadBytes
        self.noPeerWait = noPeerWait
        self.logger = logger
        self.extraCommand = extraCommand
        self.unlinkedSince.store(Self.monotonicNanoseconds(), ordering: .relaxed)
    }

    private static func monotonicNanoseconds() -> Int64 {
        let now = ContinuousClock.now - Self.processStart
        return now.components.seconds * 1_000_000_000 + now.components.attoseconds / 1_000_000_000
    }
    private static let processStart = ContinuousClock.now

    /// Where deliveries go (the broker's fan-out); set once the broker exists.
    func attach(deliver: @escaping Deliver) async {
        self.deliver = deliver
        if drainer == nil {
            let queue = self.queue
            drainer = Task { [weak self] in
                while let round = await queue.next() {
                    guard let self else { return }
                    await self.publish(round: round)
                }
            }
        }
        await reconcile()
    }

    /// Where stream entries from the network go, and the outbox that sends local XADDs.
    func attachStreams(deliverEntry: @escaping DeliverEntry, outbox: StreamOutbox?) async {
        self.deliverEntry = deliverEntry
        self.outbox = outbox
        var wake: (@Sendable () -> Void)?
        if let outbox { wake = { outbox.signal() } }
        outboxWake.withLock { $0 = wake }
        await reconcile()
    }

    /// Whether the node has a linked peer. While none is, publishes are held (bounded); once none
    /// has been linked for `noPeerWait` and the queue is full, `PUBLISH` is refused.
    nonisolated func setLinked(_ linked: Bool) {
        if linked {
            unlinkedSince.store(-1, ordering: .relaxed)
        } else {
            _ = unlinkedSince.compareExchange(expected: -1, desired: Self.monotonicNanoseconds(), ordering: .relaxed)
        }
    }

    /// Whether no peer has been linked for longer than `noPeerWait`.
    private nonisolated var noPeerForTooLong: Bool {
        let since = unlinkedSince.load(ordering: .relaxed)
        guard since >= 0 else { return false }
        let wait = noPeerWait.components.seconds * 1_000_000_000 + noPeerWait.components.attoseconds / 1_000_000_000
        return Self.monotonicNanoseconds() - since > wait
    }

    /// The topic a channel names (for the outbox), answerable from any thread.
    nonisolated var channelTopic: @Sendable ([UInt8]) throws(BrokerBackendError) -> Topic {
        let directory = self.directory
        return { channel throws(BrokerBackendError) in try directory.topic(for: channel) }
    }

    /// Joined private channels and remembered public ones.
    var channels: (joined: [[UInt8]], subscribed: [[UInt8]]) {
        (store.topics.keys.sorted { $0.lexicographicallyPrecedes($1) }, active.keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// Stops taking publishes and hands what was accepted to the topic layer: the drainer gets
    /// up to `drain` to send it at the links' pace, then publishers stop waiting for room and
    /// the rest goes into the links' queues (`NymbusDaemon.stop()` lets the node send them
    /// before it says `bye`).
    func stop(drain: Duration = .seconds(5)) async {
        for (_, subscription) in active { await pubsub.unsubscribe(subscription) }
        active.removeAll()
        queue.close()
        let pubsub = self.pubsub
        let deadline = Task {
            try? await Task.sleep(for: drain)
            await pubsub.shutdown()
        }
        await drainer?.value
        drainer = nil
        deadline.cancel()
        await pubsub.shutdown()
        if queue.waiting > 0 {
            logger.warning("publishes left in the queue at stop", metadata: ["count": "\(queue.waiting)"])
        }
    }

    // MARK: BrokerBackend

    func publish(channel: [UInt8], payload: [UInt8]) async throws(BrokerBackendError) {
        if let error = await publish([BrokerMessage(channel: channel, payload: payload)]).first ?? nil { throw error }
    }

    /// Waits for room in the publish queue (the broker reads nothing more from this client
    /// meanwhile); refuses only when no peer has been linked for `noPeerWait`.
    func publish(_ messages: [BrokerMessage]) async -> [BrokerBackendError?] {
        let (entries, indexes, errors) = check(messages)
        guard !entries.isEmpty else { return errors }
        let noPeerWait = self.noPeerWait
        let accepted = await queue.enqueue(entries) { [weak self] in self?.noPeerForTooLong ?? true }
        guard !accepted else { return errors }
        let refusal: BrokerBackendError
        if noPeerForTooLong {
            refusals.add(indexes.count, ordering: .relaxed)
            refusal = BrokerBackendError(
                .unavailable,
                "no peer has been linked for over \(noPeerWait.components.seconds) s and the publish queue is full; "
                    + "this node keeps trying to link (see NYMBUS.PEERS, and check that nym-client runs)")
        } else {
            refusal = BrokerBackendError(.unavailable, "the node is stopping")
        }
        return merge(errors, [BrokerBackendError?](repeating: refusal, count: indexes.count), at: indexes)
    }

    nonisolated func publishImmediately(_ messages: [BrokerMessage]) -> [BrokerBackendError?]? {
        let (entries, _, errors) = check(messages)
        guard entries.isEmpty || queue.offer(entries) else { return nil }
        return errors
    }

    /// The messages the topic layer will take (a known topic, a payload within the limit) with
    /// their positions in `messages`, and the refusal of each other one.
    private nonisolated func check(_ messages: [BrokerMessage])
        -> (entries: [PublishQueue.Entry], indexes: [Int], errors: [BrokerBackendError?])
    {
        var entries: [PublishQueue.Entry] = []
        entries.reserveCapacity(messages.count)
        var indexes: [Int] = []
        indexes.reserveCapacity(messages.count)
        var errors = [BrokerBackendError?](repeating: nil, count: messages.count)
        var last: (channel: [UInt8], topic: TopicRef)?
        for (index, message) in messages.enumerated() {
            guard message.payload.count <= maxPayloadBytes else {
                errors[index] = BrokerBackendError(
                    .payloadTooLarge, "payload of \(message.payload.count) bytes is over the limit of \(maxPayloadBytes)")
                continue
            }
            do throws(BrokerBackendError) {
                // Publishers repeat their channel: reuse the previous lookup for a run of one.
                let topic: TopicRef
                if let last, last.channel == message.channel {
                    topic = last.topic
                } else {
                    topic = try directory.reference(for: message.channel)
                    last = (message.channel, topic)
                }
                entries.append(PublishQueue.Entry(topic: topic, channel: message.channel, payload: message.payload))
                indexes.append(index)
            } catch {
                errors[index] = error
            }
        }
        return (entries, indexes, errors)
    }

    private nonisolated func merge(
        _ errors: [BrokerBackendError?], _ answers: [BrokerBackendError?], at indexes: [Int]
    ) -> [BrokerBackendError?] {
        var errors = errors
        for (answer, index) in zip(answers, indexes) { errors[index] = answer }
        return errors
    }

    /// Seals one round: each topic's messages in order, packed into as few objects as fit. The
    /// topic layer waits (for room in the links' queues, or for a peer) rather than refuse.
    private func publish(round entries: [PublishQueue.Entry]) async {
        // Group by topic, keeping each topic's order. A round usually holds a few topics, in
        // long runs: compare with the previous entry's group before searching the others.
        var groups: [(topic: Topic, indexes: [Int])] = []
        var current = -1
        var currentRef: TopicRef?
        for (index, entry) in entries.enumerated() {
            if entry.topicRef !== currentRef {
                currentRef = entry.topicRef
                let id = entry.topic.id
                current = groups.firstIndex { $0.topic.id == id } ?? -1
                if current < 0 {
                    groups.append((entry.topic, []))
                    current = groups.count - 1
                }
            }
            groups[current].indexes.append(index)
        }
        var lost = 0
        var reason = ""
        for (topic, indexes) in groups {
            let results = await pubsub.publish(batch: indexes.map { entries[$0].payload }, to: topic, whenHeldFull: .wait)
            for result in results {
                guard case .failure(let error) = result else { continue }
                lost += 1
                reason = error.reason
            }
        }
        if lost > 0 {
            lostAfterAcceptance += lost
            logger.error(
                "accepted publishes refused by the topic layer", metadata: ["count": "\(lost)", "reason": "\(reason)"])
        }
        // Remember each channel once (for PSUBSCRIBE); runs of one channel are hashed once.
        var previous: [UInt8]?
        var seen: Set<[UInt8]> = []
        for entry in entries where entry.channel != previous {
            previous = entry.channel
            if seen.insert(entry.channel).inserted { await remember(entry.channel) }
        }
    }

    private static func brokerError(_ error: PubSubError) -> BrokerBackendError {
        switch error.code {
        case .payloadTooLarge: BrokerBackendError(.payloadTooLarge, error.reason)
        case .queueFull:
            BrokerBackendError(
                .unavailable, "no peer is connected yet and the publish queue is full; try again when peers are up")
        default: BrokerBackendError(.failed, error.reason)
        }
    }

    nonisolated func streamDestination(channel: [UInt8], payloadBytes: Int) throws(BrokerBackendError) -> StreamDestination {
        guard payloadBytes <= maxPayloadBytes else {
            throw BrokerBackendError(
                .payloadTooLarge, "stream entry of \(payloadBytes) bytes is over the object limit of \(maxPayloadBytes)")
        }
        _ = try directory.reference(for: channel)
        return .overlay
    }

    func streamsChanged(_ channels: Set<[UInt8]>) async {
        streamChannels = channels
        for channel in channels { await remember(channel) }
        await reconcile()
    }

    nonisolated func outboxReady() {
        outboxWake.withLock { $0 }?()
    }

    func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async {
        interest = (channels, patterns)
        for channel in channels { await remember(channel) }
        await reconcile()
    }

    func nymbusCommand(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        let name = String(decoding: arguments.first ?? [], as: UTF8.self)
        let args = Array(arguments.dropFirst())
        switch name {
        case "NYMBUS.JOIN":
            guard (1...2).contains(args.count) else { throw arity(name, "<invite> [channel]") }
            return .bulk(try await join(invite: String(decoding: args[0], as: UTF8.self), channel: args.count == 2 ? args[1] : nil))
        case "NYMBUS.TOPIC":
            guard let sub = args.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else {
                throw arity(name, "NEW [name] | LIST | INVITE <channel> | LEAVE <channel>")
            }
            return try await topicCommand(sub, Array(args.dropFirst()))
        case "NYMBUS.STATUS":
            guard case .map(var entries)? = try await extraCommand(arguments) else {
                throw BrokerBackendError(.failed, "status unavailable")
            }
            entries.append(RESPMapEntry(key: .bulk("broker-queue-waiting"), value: .integer(Int64(queue.waiting))))
            entries.append(
                RESPMapEntry(key: .bulk("broker-publishers-waiting"), value: .integer(Int64(queue.publishersWaiting))))
            entries.append(
                RESPMapEntry(key: .bulk("broker-publishes-lost"), value: .integer(Int64(lostAfterAcceptance))))
            entries.append(
                RESPMapEntry(
                    key: .bulk("broker-publishes-refused-no-peer"),
                    value: .integer(Int64(refusals.load(ordering: .relaxed)))))
            entries.append(RESPMapEntry(key: .bulk("streams"), value: .integer(Int64(streamChannels.count))))
            entries.append(
                RESPMapEntry(key: .bulk("stream-entries-malformed"), value: .integer(Int64(malformedStreamEntries))))
            if let outbox {
                entries.append(RESPMapEntry(key: .bulk("stream-outbox-waiting"), value: .integer(Int64(await outbox.waiting))))
                entries.append(RESPMapEntry(key: .bulk("stream-outbox-sent"), value: .integer(Int64(await outbox.sent))))
                entries.append(RESPMapEntry(key: .bulk("stream-outbox-dropped"), value: .integer(Int64(await outbox.dropped))))
            }
            return .map(entries)
        default:
            if let reply = try await extraCommand(arguments) { return reply }
            throw BrokerBackendError(
                .unknownCommand,
                "unknown Nymbus command '\(name)'; known: NYMBUS.JOIN, NYMBUS.TOPIC NEW|LIST|INVITE|LEAVE, NYMBUS.PEERS, NYMBUS.STATUS")
        }
    }

    // MARK: Topics

    private func topicCommand(_ sub: String, _ args: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        switch sub {
        case "NEW":
            // NEW [name [REPLACE]]: an existing ~name is replaced only when asked, since its
            // members' invite then stops working on this node.
            let replace = args.count == 2 && String(decoding: args[1], as: UTF8.self).uppercased() == "REPLACE"
            guard args.count <= 1 || replace else { throw arity("NYMBUS.TOPIC NEW", "[name [REPLACE]]") }
            let label = args.first.map { String(decoding: $0, as: UTF8.self) }
            if let label, label.isEmpty || label.utf8.count > ChannelName.maxLength - 1 {
                throw BrokerBackendError(.invalidArgument, "a topic name has 1 to 254 bytes")
            }
            let topic = Topic.random(name: label)
            let channel = ChannelName.privateChannel(label: label ?? String(Hex.encode(topic.id.bytes).prefix(12)))
            if !replace, store.topics[channel] != nil {
                throw BrokerBackendError(
                    .invalidArgument,
                    "\(String(decoding: channel, as: UTF8.self)) already exists on this node; replacing it makes its current invite useless here: NYMBUS.TOPIC NEW <name> REPLACE (nymbus topic new <name> --replace), or pick another name")
            }
            try await save(topic, channel: channel)
            return .array([.bulk(channel), .bulk(topic.invite)])
        case "LIST":
            let (joined, subscribed) = channels
            return .array(Array(Set(joined + subscribed)).sorted { $0.lexicographicallyPrecedes($1) }.map { .bulk($0) })
        case "INVITE":
            guard args.count == 1 else { throw arity("NYMBUS.TOPIC INVITE", "<channel>") }
            return .bulk(try topic(for: args[0]).invite)
        case "LEAVE":
            guard args.count == 1 else { throw arity("NYMBUS.TOPIC LEAVE", "<channel>") }
            let left: Bool
            do { left = try store.leave(channel: args[0]) } catch { throw BrokerBackendError(.failed, error.reason) }
            directory.setJoined(store.topics)
            await reconcile()
            return .integer(left ? 1 : 0)
        default:
            throw BrokerBackendError(.invalidArgument, "unknown NYMBUS.TOPIC subcommand '\(sub)'; use NEW, LIST, INVITE or LEAVE")
        }
    }

    private func join(invite: String, channel explicit: [UInt8]?) async throws(BrokerBackendError) -> [UInt8] {
        let topic: Topic
        do { topic = try Topic(invite: invite) } catch {
            throw BrokerBackendError(.invalidArgument, "invalid invite: \(error.reason)")
        }
        if topic.isPublic {
            let channel = explicit ?? topic.nameBytes ?? []
            guard !channel.isEmpty, !ChannelName.isPrivate(channel) else {
                throw BrokerBackendError(.invalidArgument, "this invite is for a public topic; subscribe to its name directly")
            }
            await remember(channel)
            await reconcile()
            return channel
        }
        let channel: [UInt8]
        if let explicit {
            channel = ChannelName.isPrivate(explicit) ? explicit : [ChannelName.privatePrefix] + explicit
        } else if let name = topic.name, !name.isEmpty {
            channel = ChannelName.privateChannel(label: name)
        } else {
            throw BrokerBackendError(.invalidArgument, "this invite carries no name; give a channel: NYMBUS.JOIN <invite> ~team")
        }
        guard channel.count <= ChannelName.maxLength else {
            throw BrokerBackendError(.invalidArgument, "channel names have at most \(ChannelName.maxLength) bytes")
        }
        try await save(topic, channel: channel)
        return channel
    }

    private func save(_ topic: Topic, channel: [UInt8]) async throws(BrokerBackendError) {
        do { try store.join(topic, channel: channel) } catch {
            throw BrokerBackendError(.failed, "cannot save the topic: \(error.reason)")
        }
        directory.setJoined(store.topics)
        logger.info("joined private topic", metadata: ["channel": "\(String(decoding: channel, as: UTF8.self))"])
        await reconcile()
    }

    private func topic(for channel: [UInt8]) throws(BrokerBackendError) -> Topic {
        try directory.topic(for: channel)
    }

    private func remember(_ channel: [UInt8]) async {
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

    /// Subscribes the topic layer to every channel some local client listens to, directly or by
    /// pattern, and unsubscribes the rest.
    private func reconcile() async {
        guard let deliver else { return }
        let candidates = knownPublic.union(store.topics.keys)
        var wanted = interest.channels.union(streamChannels).filter { !ChannelName.isPrivate($0) || store.topics[$0] != nil }
        for channel in candidates where interest.patterns.contains(where: { RedisGlob.matches(pattern: $0, string: channel) }) {
            wanted.insert(channel)
        }
        for (channel, subscription) in active where !wanted.contains(channel) {
            active[channel] = nil
            await pubsub.unsubscribe(subscription)
        }
        for channel in wanted where active[channel] == nil {
            guard let topic = try? topic(for: channel) else { continue }
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

    private func arity(_ command: String, _ usage: String) -> BrokerBackendError {
        BrokerBackendError(.invalidArgument, "wrong number of arguments; usage: \(command) \(usage)")
    }
}
