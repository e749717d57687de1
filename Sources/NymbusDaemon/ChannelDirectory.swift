import NymbusBroker
import NymbusCrypto
import NymbusPubSub
import Synchronization

/// Which topic a channel name stands for, answerable from any thread without waiting: the
/// broker's event loop asks it for every PUBLISH.
///
/// Public channels are topics derived from their name (cached: deriving costs a key derivation
/// and an Ed25519 key pair, more than sealing an object); `~` channels are the private topics
/// this node joined, as ``TopicMembership`` last reported them.
final class ChannelDirectory: Sendable {
    private struct State {
        var joined: [[UInt8]: TopicRef] = [:]
        var derived: [[UInt8]: TopicRef] = [:]
    }

    /// Most derived public topics kept; past it the cache starts over.
    static let maxDerivedTopics = 1024
    private let state = Mutex(State())

    init(joined: [[UInt8]: Topic] = [:]) {
        setJoined(joined)
    }

    /// Replaces the joined private topics (after a join or a leave).
    func setJoined(_ joined: [[UInt8]: Topic]) {
        let references = joined.mapValues(TopicRef.init)
        state.withLock { $0.joined = references }
    }

    /// The private channels joined.
    var joinedChannels: Set<[UInt8]> { state.withLock { Set($0.joined.keys) } }

    /// The topic `channel` names.
    ///
    /// Any public name works, as any Redis channel name does: the empty one, and names over 255
    /// bytes (up to the broker's bulk-string limit), since a public topic is a hash of the
    /// whole name. Only names up to ``ChannelName/maxLength`` bytes are cached.
    ///
    /// - Throws: ``BrokerBackendError`` `.notJoined` for a private channel this node has not
    ///   joined (a private channel over 255 bytes cannot have been joined).
    func topic(for channel: [UInt8]) throws(BrokerBackendError) -> Topic {
        try reference(for: channel).topic
    }

    /// The topic `channel` names, shared by reference (see ``TopicRef``); errors as
    /// ``topic(for:)``.
    func reference(for channel: [UInt8]) throws(BrokerBackendError) -> TopicRef {
        if ChannelName.isPrivate(channel) {
            guard let topic = state.withLock({ $0.joined[channel] }) else {
                throw BrokerBackendError(
                    .notJoined,
                    "topic \(String(decoding: channel, as: UTF8.self)) is private and not joined: run NYMBUS.JOIN <invite> first")
            }
            return topic
        }
        if let topic = state.withLock({ $0.derived[channel] }) { return topic }
        let topic = TopicRef(Topic.named(bytes: channel))
        guard channel.count <= ChannelName.maxLength else { return topic }
        state.withLock { state in
            if state.derived.count >= Self.maxDerivedTopics { state.derived.removeAll(keepingCapacity: true) }
            state.derived[channel] = topic
        }
        return topic
    }
}

/// A topic held by reference: every queued message of a channel points at the same one, so
/// queuing a message costs one reference count rather than one per key the topic holds.
final class TopicRef: Sendable {
    let topic: Topic

    init(_ topic: Topic) {
        self.topic = topic
    }
}
