import NymbusCrypto

/// Per-publisher order (spec/broker.md "Order"): numbering this node's ordered publishes, and
/// putting received ones back in order before any subscription sees them.
extension PubSub {
    /// A received publisher: its topic and tag.
    struct OrderKey: Hashable, Sendable {
        let topic: TopicID
        let tag: UInt64
    }

    /// Hands an ordered object's entries (each run numbered from its first number) to the
    /// reorder buffer and delivers what it releases, in order, through the one delivery loop.
    /// The runs cover the entries exactly (`TopicObject.openEntries` checked it).
    func deliverInOrder(
        _ entries: [[UInt8]], runs: [PublisherRun], authorKey: Ed25519.PublicKey?, object: TopicObject,
        id: MessageID, now: Int64
    ) async {
        guard topics[object.topicID]?.isEmpty == false else { return }
        // When it arrived: the node hands the topic layer a message it has not finished handling.
        let time = await handledThrough()
        guard topics[object.topicID]?.isEmpty == false else { return }
        stats.delivered += 1
        var released: [OrderedEntry] = []
        var index = 0
        for run in runs {
            let key = OrderKey(topic: object.topicID, tag: run.tag)
            for offset in 0..<Int(run.count) where index < entries.count {
                let entry = OrderedEntry(
                    payload: entries[index], index: index, count: entries.count, author: authorKey, object: object,
                    id: id, receivedAt: now)
                released += publisherOrder.receive(
                    entry, key: key, number: UInt64(run.number) + UInt64(offset), bytes: entries[index].count,
                    now: time)
                index += 1
            }
        }
        orderChanged()
        await deliverReleased(released)
    }

    /// Skips the gaps held too long and delivers what follows them; then waits for the next.
    /// A gap is skipped once the node has handled everything that arrived before its deadline.
    func expireOrder() async {
        orderTimer = nil
        let through = await handledThrough()
        let released = publisherOrder.expire(now: monotonicClock(), handledThrough: through)
        orderChanged(handledThrough: through)
        await deliverReleased(released)
    }

    /// The time (``monotonicClock``) before which every message that reached this node has been
    /// handled: now, or when the oldest message the node has not finished handling arrived. On a
    /// loaded machine messages wait there for seconds; the order hold must not count that wait
    /// as the mixnet's.
    private func handledThrough() async -> Double {
        let now = monotonicClock()
        guard let age = await network.inboundBacklogAge(), age > .zero else { return now }
        let (seconds, attoseconds) = age.components
        return now - (Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Copies the buffer's counters into the statistics and keeps a timer for its next deadline
    /// (in arrival time: while the node is behind by `now − handledThrough`, as much later, and
    /// at least 50 ms on, so a node stuck on one message is not asked again and again).
    private func orderChanged(handledThrough: Double? = nil) {
        stats.order = publisherOrder.counters
        stats.orderHeld = publisherOrder.heldCount
        guard orderTimer == nil, let deadline = publisherOrder.nextDeadline else { return }
        let wait = max(handledThrough == nil ? 0 : 0.05, deadline - (handledThrough ?? monotonicClock()))
        orderTimer = Task { [weak self] in
            try? await Task.sleep(for: .seconds(wait))
            guard !Task.isCancelled else { return }
            await self?.expireOrder()
        }
    }

    /// Delivers released entries one at a time and in order, even when an expiry and an
    /// arrival release entries at once: one loop delivers, other callers wait for it to finish
    /// (so a receiver still waits for its deliveries, as for unordered objects).
    private func deliverReleased(_ released: [OrderedEntry]) async {
        orderOutbox += released
        guard !orderDelivering else {
            if !orderOutbox.isEmpty { await withCheckedContinuation { orderDeliveryWaiters.append($0) } }
            return
        }
        orderDelivering = true
        var next = 0
        while next < orderOutbox.count {
            let entry = orderOutbox[next]
            next += 1
            _ = await deliver(entry, isOwn: false)
            if next >= 256 {
                orderOutbox.removeFirst(next)
                next = 0
            }
        }
        orderOutbox.removeAll(keepingCapacity: true)
        orderDelivering = false
        let waiters = orderDeliveryWaiters
        orderDeliveryWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Ordered messages held now, waiting for a predecessor.
    public var orderHeld: Int { publisherOrder.heldCount }
}

/// One payload on its way to local subscriptions, with what its `Delivery` needs.
struct OrderedEntry: Sendable {
    let payload: [UInt8]
    let index: Int
    let count: Int
    let author: Ed25519.PublicKey?
    let topicID: TopicID
    /// The payload's type: a batch's entries are raw bytes.
    let objectType: UInt32
    let isBatch: Bool
    let timestamp: UInt32
    let id: MessageID
    let receivedAt: Int64

    init(
        payload: [UInt8], index: Int, count: Int, author: Ed25519.PublicKey?, object: TopicObject, id: MessageID,
        receivedAt: Int64
    ) {
        self.payload = payload
        self.index = index
        self.count = count
        self.author = author
        self.topicID = object.topicID
        self.isBatch = object.objectType == ObjectType.rawBytesBatch
        self.objectType = isBatch ? ObjectType.rawBytes : object.objectType
        self.timestamp = object.timestamp
        self.id = id
        self.receivedAt = receivedAt
    }
}

/// This node's ordered publishers: a random tag and the next number per (publisher, topic).
/// Bounded: past ``maxPublishers`` the least recently used is forgotten (its next publish
/// starts a new tag, which receivers take as a new publisher).
struct PublisherSequences: Sendable {
    private struct Key: Hashable {
        let publisher: UInt64
        let topic: TopicID
    }

    static let maxPublishers = 4096
    private var sequences: [Key: (sequence: PublisherSequence, lastUsed: UInt64)] = [:]
    private var uses: UInt64 = 0

    /// The runs of one object's payloads `indices` (consecutive payloads of one publisher form
    /// a run), numbered in order.
    mutating func runs(_ indices: [Int], owners: [UInt64], topic: TopicID) -> [PublisherRun] {
        var runs: [PublisherRun] = []
        var start = 0
        while start < indices.count {
            let owner = owners[indices[start]]
            var end = start + 1
            while end < indices.count, owners[indices[end]] == owner, end - start < Int(UInt16.max) { end += 1 }
            let first = take(end - start, publisher: owner, topic: topic)
            runs.append(PublisherRun(tag: first.tag, number: first.number, count: UInt16(end - start)))
            start = end
        }
        return runs
    }

    /// Splits one planned object's payloads so that no object has more than `maxRuns` runs.
    static func split(_ indices: [Int], owners: [UInt64]?, maxRuns: Int) -> [[Int]] {
        guard let owners, !indices.isEmpty else { return [indices] }
        var objects: [[Int]] = []
        var current: [Int] = []
        var runs = 0
        for index in indices {
            if current.isEmpty || owners[current.last!] != owners[index] {
                if runs == maxRuns {
                    objects.append(current)
                    current = []
                    runs = 0
                }
                runs += 1
            }
            current.append(index)
        }
        objects.append(current)
        return objects
    }

    /// The place of the first of `count` messages `publisher` publishes now on `topic`; the
    /// others follow it.
    mutating func take(_ count: Int, publisher: UInt64, topic: TopicID) -> PublisherSequence {
        uses += 1
        let key = Key(publisher: publisher, topic: topic)
        var sequence =
            sequences[key]?.sequence
            ?? PublisherSequence(tag: SecureRandom.bytes(8).reduce(0) { $0 << 8 | UInt64($1) }, number: 0)
        if sequences[key] == nil, sequences.count >= Self.maxPublishers,
            let oldest = sequences.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key
        {
            sequences[oldest] = nil
        }
        let first = sequence
        sequence.number &+= UInt32(truncatingIfNeeded: count)
        sequences[key] = (sequence, uses)
        return first
    }
}
