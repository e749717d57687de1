import Logging
import NymbusBroker
import NymbusCrypto
import NymbusPubSub

/// The private topics this node joined: creates, joins and leaves them, writes `topics.json`
/// (``TopicStore``) and keeps the ``ChannelDirectory`` in step, then has the subscriptions
/// reconciled. The only writer of the topic store.
actor TopicMembership {
    private var store: TopicStore
    private let directory: ChannelDirectory
    private let reconciler: SubscriptionReconciler
    private let logger: Logger

    init(store: TopicStore, directory: ChannelDirectory, reconciler: SubscriptionReconciler, logger: Logger) {
        self.store = store
        self.directory = directory
        self.reconciler = reconciler
        self.logger = logger
    }

    /// Joined private channels, sorted.
    var joinedChannels: [[UInt8]] { store.topics.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    /// Creates a private topic and joins it as `~label` (or `~<12 hex digits of its id>`).
    /// - Returns: the channel and the topic's invite.
    func create(label: String?, replace: Bool) async throws(BrokerBackendError) -> (channel: [UInt8], invite: String) {
        if let label, label.isEmpty || label.utf8.count > ChannelName.maxLength - 1 {
            throw BrokerBackendError(.invalidArgument, "a topic name has 1 to 254 bytes")
        }
        let topic = Topic.random(name: label)
        let channel = ChannelName.privateChannel(label: label ?? String(Hex.encode(topic.id.bytes).prefix(12)))
        // An existing ~name is replaced only when asked, since its members' invite then stops
        // working on this node.
        if !replace, store.topics[channel] != nil {
            throw BrokerBackendError(
                .invalidArgument,
                "\(String(decoding: channel, as: UTF8.self)) already exists on this node; replacing it makes its current invite useless here: NYMBUS.TOPIC NEW <name> REPLACE (nymbus topic new <name> --replace), or pick another name")
        }
        try await save(topic, channel: channel)
        return (channel, topic.invite)
    }

    /// Joins the topic of `invite`: a private one under `explicit` or the name it carries; a
    /// public one is only remembered (its name is its channel).
    /// - Returns: the channel.
    func join(invite: String, channel explicit: [UInt8]?) async throws(BrokerBackendError) -> [UInt8] {
        let topic: Topic
        do { topic = try Topic(invite: invite) } catch {
            throw BrokerBackendError(.invalidArgument, "invalid invite: \(error.reason)")
        }
        if topic.isPublic {
            let channel = explicit ?? topic.nameBytes ?? []
            guard !channel.isEmpty, !ChannelName.isPrivate(channel) else {
                throw BrokerBackendError(.invalidArgument, "this invite is for a public topic; subscribe to its name directly")
            }
            await reconciler.remember(channel)
            await reconciler.reconcile()
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

    /// Leaves a joined private channel; false if it was not joined.
    func leave(channel: [UInt8]) async throws(BrokerBackendError) -> Bool {
        let left: Bool
        do { left = try store.leave(channel: channel) } catch { throw BrokerBackendError(.failed, error.reason) }
        directory.setJoined(store.topics)
        await reconciler.reconcile()
        return left
    }

    private func save(_ topic: Topic, channel: [UInt8]) async throws(BrokerBackendError) {
        do { try store.join(topic, channel: channel) } catch {
            throw BrokerBackendError(.failed, "cannot save the topic: \(error.reason)")
        }
        directory.setJoined(store.topics)
        logger.info("joined private topic", metadata: ["channel": "\(String(decoding: channel, as: UTF8.self))"])
        await reconciler.reconcile()
    }
}
