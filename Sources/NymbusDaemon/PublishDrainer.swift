import NymbusCrypto
import Logging
import NymbusNode
import NymbusPubSub

/// Empties the ``PublishQueue`` into the topic layer: one task takes each round of waiting
/// publishes and seals every topic's messages, in order, into as few objects as fit
/// (`PubSub.publish(batch:to:)`).
///
/// The topic layer waits (for room in the links' queues, or for a peer) rather than refuse, so
/// what the broker accepted is lost only if sealing fails; such losses are counted
/// (``lostAfterAcceptance``) and logged, never silent.
actor PublishDrainer {
    private let queue: PublishQueue
    private let pubsub: PubSub<Node>
    private let logger: Logger
    /// Told every channel a round published to (the reconciler remembers names for PSUBSCRIBE).
    private let published: @Sendable ([UInt8]) async -> Void
    private var task: Task<Void, Never>?
    /// Messages the broker accepted that the topic layer then refused.
    private(set) var lostAfterAcceptance = 0

    init(
        queue: PublishQueue, pubsub: PubSub<Node>, logger: Logger, published: @escaping @Sendable ([UInt8]) async -> Void
    ) {
        self.queue = queue
        self.pubsub = pubsub
        self.logger = logger
        self.published = published
    }

    /// Starts draining (once).
    func start() {
        guard task == nil else { return }
        let queue = self.queue
        task = Task { [weak self] in
            while let round = await queue.next() {
                guard let self else { return }
                await self.publish(round: round)
            }
        }
    }

    /// Closes the queue and hands what was accepted to the topic layer: up to `drain` at the
    /// links' pace, then publishers stop waiting for room and the rest goes into the links'
    /// queues (`NymbusDaemon.stop()` lets the node send them before it says `bye`).
    func stop(drain: Duration) async {
        queue.close()
        let pubsub = self.pubsub
        let deadline = Task {
            try? await Task.sleep(for: drain)
            await pubsub.shutdown()
        }
        await task?.value
        task = nil
        deadline.cancel()
        await pubsub.shutdown()
        if queue.waiting > 0 {
            logger.warning("publishes left in the queue at stop", metadata: ["count": "\(queue.waiting)"])
        }
    }

    /// Seals one round: each topic's messages packed into as few objects as fit, each
    /// publisher's in its order and numbered for receivers to keep it (spec/broker.md "Order").
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
        for (topic, unsorted) in groups {
            // Each publisher's messages together (in their order), so an object carries few runs.
            var firstSeen: [UInt64: Int] = [:]
            for index in unsorted where firstSeen[entries[index].publisher] == nil {
                firstSeen[entries[index].publisher] = firstSeen.count
            }
            let indexes = firstSeen.count == 1
                ? unsorted
                : unsorted.enumerated().sorted {
                    let (a, b) = (firstSeen[entries[$0.element].publisher]!, firstSeen[entries[$1.element].publisher]!)
                    return a != b ? a < b : $0.offset < $1.offset
                }.map(\.element)
            // The broker already delivered these to local subscribers: the topic layer seals
            // and sends them only (one local delivery).
            let results = await pubsub.publish(
                batch: indexes.map { entries[$0].payload }, to: topic, whenHeldFull: .wait, deliverLocally: false,
                publishers: indexes.map { entries[$0].publisher })
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
        // Each channel once; runs of one channel are hashed once.
        var previous: [UInt8]?
        var seen: Set<[UInt8]> = []
        for entry in entries where entry.channel != previous {
            previous = entry.channel
            if seen.insert(entry.channel).inserted { await published(entry.channel) }
        }
    }
}
