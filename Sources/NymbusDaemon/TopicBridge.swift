import Logging
import NymbusBroker
import NymbusCrypto
import NymbusNode
import NymbusPubSub

/// Connects the broker's channels to the topic layer: what local clients publish is sealed and
/// flooded, and what arrives for a channel they listen to is handed back to the broker.
///
/// Channel names are topic names (`ChannelName`). Pattern subscriptions match the channels this
/// node knows of (named by a local SUBSCRIBE, PUBLISH or NYMBUS.JOIN): objects carry no topic
/// name, so a public topic nobody here ever named cannot be discovered, by design.
actor TopicBridge: BrokerBackend {
    typealias Deliver = @Sendable (_ channel: [UInt8], _ payload: [UInt8]) async -> Int
    typealias ExtraCommand = @Sendable (_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue?

    private let pubsub: PubSub<Node>
    private let logger: Logger
    private var store: TopicStore
    private var deliver: Deliver?
    private let extraCommand: ExtraCommand
    private var knownPublic: Set<[UInt8]> = []
    private var interest: (channels: Set<[UInt8]>, patterns: Set<[UInt8]>) = ([], [])
    private var active: [[UInt8]: (subscription: Subscription, pump: Task<Void, Never>)] = [:]
    /// Bound on remembered public channel names, so a client cannot grow this without limit.
    static let maxKnownChannels = 10_000
    /// Public topics derived so far, by channel: deriving one (KDF and an Ed25519 key pair) costs
    /// more than sealing and signing an object, and publishers repeat their channels.
    private var derivedTopics: [[UInt8]: Topic] = [:]
    static let maxDerivedTopics = 1024

    init(pubsub: PubSub<Node>, store: TopicStore, logger: Logger, extraCommand: @escaping ExtraCommand) {
        self.pubsub = pubsub
        self.store = store
        self.logger = logger
        self.extraCommand = extraCommand
    }

    /// Where deliveries go (the broker's fan-out); set once the broker exists.
    func attach(deliver: @escaping Deliver) async {
        self.deliver = deliver
        await reconcile()
    }

    /// Joined private channels and remembered public ones.
    var channels: (joined: [[UInt8]], subscribed: [[UInt8]]) {
        (store.topics.keys.sorted { $0.lexicographicallyPrecedes($1) }, active.keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    func stop() {
        for (_, entry) in active { entry.pump.cancel() }
        active.removeAll()
    }

    // MARK: BrokerBackend

    func publish(channel: [UInt8], payload: [UInt8]) async throws(BrokerBackendError) {
        let topic = try topic(for: channel)
        do {
            try await pubsub.publish(payload, to: topic)
        } catch {
            switch error.code {
            case .payloadTooLarge: throw BrokerBackendError(.payloadTooLarge, error.reason)
            case .queueFull:
                throw BrokerBackendError(
                    .unavailable, "no peer is connected yet and the publish queue is full; try again when peers are up")
            default: throw BrokerBackendError(.failed, error.reason)
            }
        }
        await remember(channel)
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
            guard args.count <= 1 else { throw arity("NYMBUS.TOPIC NEW", "[name]") }
            let label = args.first.map { String(decoding: $0, as: UTF8.self) }
            if let label, label.isEmpty || label.utf8.count > ChannelName.maxLength - 1 {
                throw BrokerBackendError(.invalidArgument, "a topic name has 1 to 254 bytes")
            }
            let topic = Topic.random(name: label)
            let channel = ChannelName.privateChannel(label: label ?? String(Hex.encode(topic.id.bytes).prefix(12)))
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
        logger.info("joined private topic", metadata: ["channel": "\(String(decoding: channel, as: UTF8.self))"])
        await reconcile()
    }

    private func topic(for channel: [UInt8]) throws(BrokerBackendError) -> Topic {
        guard !channel.isEmpty, channel.count <= ChannelName.maxLength else {
            throw BrokerBackendError(.invalidArgument, "channel names have 1 to \(ChannelName.maxLength) bytes")
        }
        if ChannelName.isPrivate(channel) {
            guard let topic = store.topics[channel] else {
                throw BrokerBackendError(
                    .notJoined,
                    "topic \(String(decoding: channel, as: UTF8.self)) is private and not joined: run NYMBUS.JOIN <invite> first")
            }
            return topic
        }
        if let topic = derivedTopics[channel] { return topic }
        if derivedTopics.count >= Self.maxDerivedTopics { derivedTopics.removeAll(keepingCapacity: true) }
        let topic = Topic.named(bytes: channel)
        derivedTopics[channel] = topic
        return topic
    }

    private func remember(_ channel: [UInt8]) async {
        guard !ChannelName.isPrivate(channel), !knownPublic.contains(channel) else { return }
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
        var wanted = interest.channels.filter { !ChannelName.isPrivate($0) || store.topics[$0] != nil }
        for channel in candidates where interest.patterns.contains(where: { RedisGlob.matches(pattern: $0, string: channel) }) {
            wanted.insert(channel)
        }
        for (channel, entry) in active where !wanted.contains(channel) {
            entry.pump.cancel()
            let subscription = entry.subscription
            active[channel] = nil
            Task { [pubsub] in await pubsub.unsubscribe(subscription) }
        }
        for channel in wanted where active[channel] == nil {
            guard let topic = try? topic(for: channel) else { continue }
            let subscription = await pubsub.subscribe(topic)
            // Another reconcile may have run while this one waited: keep one subscription per channel.
            if active[channel] != nil {
                await pubsub.unsubscribe(subscription)
                continue
            }
            let pump = Task {
                for await delivery in subscription where !delivery.isOwn {
                    _ = await deliver(channel, delivery.payload)
                }
            }
            active[channel] = (subscription, pump)
        }
    }

    private func arity(_ command: String, _ usage: String) -> BrokerBackendError {
        BrokerBackendError(.invalidArgument, "wrong number of arguments; usage: \(command) \(usage)")
    }
}
