import NymbusCrypto
import Logging
import NymbusBroker
import NymbusPubSub
import Synchronization

/// The node's ``BrokerBackend``: the one boundary between the broker and the topic layer.
///
/// It only decides and hands over, on the broker's event loop where it can:
/// - a PUBLISH batch is checked (a known topic, a payload within the limit) and put in the
///   ``PublishQueue``, which ``PublishDrainer`` empties into the topic layer;
/// - interest and stream keys go to the ``SubscriptionReconciler``;
/// - `NYMBUS.*` commands go to ``NymbusCommands``;
/// - an XADD is checked (``streamDestination(channel:payloadBytes:)``) and the
///   ``StreamOutbox`` woken when the broker stored one.
final class TopicBridge: BrokerBackend {
    /// Channel → topic, answerable on the broker's event loop.
    private let directory: ChannelDirectory
    /// Publishes on their way to the topic layer.
    let queue: PublishQueue
    private let reconciler: SubscriptionReconciler
    private let commands: NymbusCommands
    private let outbox: StreamOutbox?
    /// The topic layer's payload limit, checked before a message is taken.
    private let maxPayloadBytes: Int
    /// How long a publisher may wait for a peer before `PUBLISH` is refused.
    private let noPeerWait: Duration
    /// Publishes answered `-ERR` because no peer was linked for longer than `noPeerWait`.
    private let refusals = Atomic<Int>(0)
    /// Since when no peer is linked (monotonic nanoseconds), or -1 while one is.
    private let unlinkedSince = Atomic<Int64>(0)

    init(
        directory: ChannelDirectory, queue: PublishQueue, reconciler: SubscriptionReconciler, commands: NymbusCommands,
        outbox: StreamOutbox?, maxPayloadBytes: Int, noPeerWait: Duration = .seconds(30)
    ) {
        self.directory = directory
        self.queue = queue
        self.reconciler = reconciler
        self.commands = commands
        self.outbox = outbox
        self.maxPayloadBytes = maxPayloadBytes
        self.noPeerWait = noPeerWait
        self.unlinkedSince.store(Self.monotonicNanoseconds(), ordering: .relaxed)
    }

    private static func monotonicNanoseconds() -> Int64 {
        let now = ContinuousClock.now - Self.processStart
        return now.components.seconds * 1_000_000_000 + now.components.attoseconds / 1_000_000_000
    }
    private static let processStart = ContinuousClock.now

    /// Publishes refused because no peer was linked for too long.
    var publishesRefusedNoPeer: Int { refusals.load(ordering: .relaxed) }

    /// Whether the node has a linked peer. While none is, publishes are held (bounded); once none
    /// has been linked for `noPeerWait` and the queue is full, `PUBLISH` is refused.
    func setLinked(_ linked: Bool) {
        if linked {
            unlinkedSince.store(-1, ordering: .relaxed)
        } else {
            _ = unlinkedSince.compareExchange(expected: -1, desired: Self.monotonicNanoseconds(), ordering: .relaxed)
        }
    }

    /// Whether no peer has been linked for longer than `noPeerWait`.
    private var noPeerForTooLong: Bool {
        let since = unlinkedSince.load(ordering: .relaxed)
        guard since >= 0 else { return false }
        let wait = noPeerWait.components.seconds * 1_000_000_000 + noPeerWait.components.attoseconds / 1_000_000_000
        return Self.monotonicNanoseconds() - since > wait
    }

    // MARK: BrokerBackend

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
        var merged = errors
        for index in indexes { merged[index] = refusal }
        return merged
    }

    func publishImmediately(_ messages: [BrokerMessage]) -> [BrokerBackendError?]? {
        let (entries, _, errors) = check(messages)
        guard entries.isEmpty || queue.offer(entries) else { return nil }
        return errors
    }

    /// The messages the topic layer will take (a known topic, a payload within the limit) with
    /// their positions in `messages`, and the refusal of each other one.
    private func check(_ messages: [BrokerMessage])
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
                entries.append(
                    PublishQueue.Entry(
                        topic: topic, channel: message.channel, payload: message.payload, publisher: message.publisher))
                indexes.append(index)
            } catch {
                errors[index] = error
            }
        }
        return (entries, indexes, errors)
    }

    func streamDestination(channel: [UInt8], payloadBytes: Int) throws(BrokerBackendError) -> StreamDestination {
        guard payloadBytes <= maxPayloadBytes else {
            throw BrokerBackendError(
                .payloadTooLarge, "stream entry of \(payloadBytes) bytes is over the object limit of \(maxPayloadBytes)")
        }
        _ = try directory.reference(for: channel)
        return .overlay
    }

    func streamsChanged(_ channels: Set<[UInt8]>) async {
        await reconciler.streamsChanged(channels)
    }

    func outboxReady() {
        outbox?.signal()
    }

    func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async {
        await reconciler.interestChanged(channels: channels, patterns: patterns)
    }

    func nymbusCommand(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        try await commands.run(arguments)
    }
}
