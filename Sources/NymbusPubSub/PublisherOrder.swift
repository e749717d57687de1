/// Puts each publisher's messages back in the order it published them (spec/broker.md "Order").
///
/// The mixnet delays every object independently, so one publisher's messages can arrive
/// reordered. A publisher numbers its messages 0, 1, 2, … under a tag (one per connection and
/// topic); the receiver keeps, per key (topic and tag), the next number it expects and holds
/// early arrivals until their predecessors come. A gap is held for at most
/// ``Limits/maxHold``; then it is skipped (counted) and what was held behind it is released in
/// order. Memory is bounded per key (``Limits/maxHeldPerKey``, ``Limits/maxHeldBytesPerKey``) and
/// in all (``Limits/maxHeldTotal``, ``Limits/maxHeldBytesTotal``): beyond a bound the gap is
/// skipped at once. Keys with nothing held and no message for ``Limits/idleAfter`` are forgotten.
///
/// The hold measures the mixnet, not the receiver: arrival times are when a message reached the
/// node, and a gap is skipped only once the node has handled everything that arrived before its
/// deadline (`handledThrough` in ``expire(now:handledThrough:)``). A loaded node whose messages
/// wait seconds to be handled therefore holds a gap longer (counted in
/// ``Counters/holdsExtended``), at most ``Limits/maxHoldExtension`` past its deadline, instead
/// of skipping a predecessor that is already waiting in its own queue.
///
/// A key's order starts at number 0. When the first message seen from a key has a higher
/// number (a subscriber that joined later, a key forgotten while idle), it is held like a gap
/// for ``Limits/maxHold``, so earlier messages still in flight can overtake it; then the key
/// starts at the lowest number held, and nothing is counted as skipped.
///
/// Nothing is dropped here except an exact duplicate of a held number: a message that arrives
/// after its gap was skipped is released at once, out of order, and counted as
/// ``Counters/late``. The seen cache upstream has already removed repeated objects.
///
/// A pure value type like `PeerSession`: time (monotonic seconds) and input in, the messages to
/// deliver now out, in order. The owner calls ``expire(now:)`` at ``nextDeadline``.
public struct PublisherOrder<Key: Hashable & Sendable, Item: Sendable>: Sendable {
    /// Bounds on holding.
    public typealias Limits = PublisherOrderLimits
    /// What happened so far.
    public typealias Counters = PublisherOrderCounters

    private struct Held {
        var item: Item
        var bytes: Int
        var arrived: Double
    }

    private struct Publisher {
        /// Whether the first number is known: 0 arrived, or the first hold ended.
        var started: Bool
        var next: UInt64
        var held: [UInt64: Held] = [:]
        var heldBytes = 0
        var lastSeen: Double
        /// The gap (its `next`) whose overdue hold was counted in `holdsExtended`.
        var extendedGap: UInt64?
    }

    public let limits: Limits
    public private(set) var counters = Counters()
    private var publishers: [Key: Publisher] = [:]
    /// Messages and bytes held now, over all keys.
    public private(set) var heldCount = 0
    public private(set) var heldBytes = 0

    /// An empty reorder buffer.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Keys remembered now.
    public var keyCount: Int { publishers.count }

    /// Takes message `number` of the publisher `key` (its payload `bytes` long) at time `now`.
    /// - Returns: what can be delivered now, in order (empty while it waits for a predecessor).
    public mutating func receive(_ item: Item, key: Key, number: UInt64, bytes: Int, now: Double) -> [Item] {
        var publisher: Publisher
        if let known = publishers.removeValue(forKey: key) {
            publisher = known
        } else {
            if publishers.count >= limits.maxKeys { forgetLeastRecent() }
            publisher = Publisher(started: false, next: 0, lastSeen: now)
        }
        defer { publishers[key] = publisher }
        publisher.lastSeen = max(publisher.lastSeen, now)
        if !publisher.started && number == 0 {
            // The publisher's first message: from here on its order is known.
            publisher.started = true
            publisher.next = 0
        }
        if publisher.started && number < publisher.next {
            counters.late += 1
            return [item]
        }
        if publisher.started && number == publisher.next {
            var out = [item]
            publisher.next = number &+ 1
            release(&publisher, into: &out)
            return out
        }
        guard publisher.held[number] == nil else {
            counters.duplicates += 1
            return []
        }
        publisher.held[number] = Held(item: item, bytes: bytes, arrived: now)
        publisher.heldBytes += bytes
        heldCount += 1
        heldBytes += bytes
        var out: [Item] = []
        while publisher.held.count > limits.maxHeldPerKey || publisher.heldBytes > limits.maxHeldBytesPerKey {
            counters.overflows += 1
            skipGap(&publisher, into: &out)
        }
        if heldCount > limits.maxHeldTotal || heldBytes > limits.maxHeldBytesTotal {
            publishers[key] = publisher
            relieveTotal(into: &out)
            publisher = publishers[key]!
        }
        return out
    }

    /// Skips the gaps that have been held for ``Limits/maxHold`` and forgets idle keys.
    ///
    /// - Parameters:
    ///   - now: the time now (monotonic seconds, the clock of the arrival times).
    ///   - handledThrough: every message that arrived before it has been handled (default: now);
    ///     a gap due by `now` but not by it waits, at most ``Limits/maxHoldExtension`` more.
    /// - Returns: what was released, in order per key.
    public mutating func expire(now: Double, handledThrough: Double? = nil) -> [Item] {
        let through = max(min(handledThrough ?? now, now), now - limits.maxHoldExtension)
        var out: [Item] = []
        var forget: [Key] = []
        for key in Array(publishers.keys) {
            guard var publisher = publishers[key] else { continue }
            while let oldest = Self.oldestArrival(publisher), oldest + limits.maxHold <= through {
                skipGap(&publisher, into: &out)
            }
            if let oldest = Self.oldestArrival(publisher), oldest + limits.maxHold <= now,
                publisher.extendedGap != publisher.next
            {
                publisher.extendedGap = publisher.next
                counters.holdsExtended += 1
            }
            if publisher.held.isEmpty && publisher.lastSeen + limits.idleAfter <= now {
                forget.append(key)
            }
            publishers[key] = publisher
        }
        for key in forget {
            publishers[key] = nil
            counters.keysForgotten += 1
        }
        return out
    }

    /// When ``expire(now:handledThrough:)`` next has something to do: the earliest held
    /// message's deadline (in arrival time: a caller whose node is behind waits as long past
    /// what it has handled), or nil while nothing is held (idle keys are forgotten on any later
    /// call).
    public var nextDeadline: Double? {
        var earliest: Double?
        for publisher in publishers.values {
            guard let oldest = Self.oldestArrival(publisher) else { continue }
            earliest = min(earliest ?? .infinity, oldest + limits.maxHold)
        }
        return earliest
    }

    // MARK: - Steps

    private static func oldestArrival(_ publisher: Publisher) -> Double? {
        publisher.held.values.lazy.map(\.arrived).min()
    }

    /// Delivers the consecutive held messages from `next` on.
    private mutating func release(_ publisher: inout Publisher, into out: inout [Item]) {
        while let held = publisher.held.removeValue(forKey: publisher.next) {
            out.append(held.item)
            publisher.heldBytes -= held.bytes
            heldCount -= 1
            heldBytes -= held.bytes
            publisher.next &+= 1
        }
    }

    /// Gives up on the numbers missing before the lowest held one, then releases what follows.
    /// A publisher whose start is not known yet (its number 0 never came: a subscriber that
    /// joined later, or a key forgotten while idle) starts at its lowest held number, with
    /// nothing counted: what came before it is unknown, not missing.
    private mutating func skipGap(_ publisher: inout Publisher, into out: inout [Item]) {
        guard let lowest = publisher.held.keys.min() else { return }
        if publisher.started {
            counters.gapsSkipped += 1
            counters.messagesSkipped += Int(clamping: lowest - publisher.next)
        }
        publisher.started = true
        publisher.next = lowest
        release(&publisher, into: &out)
    }

    /// Skips gaps of the key holding the oldest message until the totals are within bounds.
    private mutating func relieveTotal(into out: inout [Item]) {
        while heldCount > limits.maxHeldTotal || heldBytes > limits.maxHeldBytesTotal {
            var victim: (key: Key, arrived: Double)?
            for (key, publisher) in publishers {
                guard let oldest = Self.oldestArrival(publisher) else { continue }
                if victim == nil || oldest < victim!.arrived { victim = (key, oldest) }
            }
            guard let victim, var publisher = publishers[victim.key] else { return }
            counters.overflows += 1
            skipGap(&publisher, into: &out)
            publishers[victim.key] = publisher
        }
    }

    /// Forgets the least recently seen key with nothing held. Keys that hold something are
    /// kept, so the key count can pass ``Limits/maxKeys`` by at most ``Limits/maxHeldTotal``.
    private mutating func forgetLeastRecent() {
        var candidate: (key: Key, seen: Double)?
        for (key, publisher) in publishers where publisher.held.isEmpty {
            if candidate == nil || publisher.lastSeen < candidate!.seen { candidate = (key, publisher.lastSeen) }
        }
        guard let candidate else { return }
        publishers[candidate.key] = nil
        counters.keysForgotten += 1
    }
}

/// Bounds on holding for ``PublisherOrder``.
public struct PublisherOrderLimits: Sendable, Equatable {
    /// Longest a message waits for a missing predecessor, in seconds of arrival time.
    public var maxHold: Double
    /// Longest a due gap waits past ``maxHold`` for the node to handle what arrived before its
    /// deadline, in seconds: a node that never catches up still skips.
    public var maxHoldExtension: Double
    /// Most messages and payload bytes held for one key; past either the gap is skipped at once.
    public var maxHeldPerKey: Int
    public var maxHeldBytesPerKey: Int
    /// Most messages and payload bytes held over all keys; past either the key holding the
    /// oldest message has its gap skipped.
    public var maxHeldTotal: Int
    public var maxHeldBytesTotal: Int
    /// Seconds without a message after which a key with nothing held is forgotten.
    public var idleAfter: Double
    /// Most keys remembered; past it the least recently seen key with nothing held is forgotten.
    public var maxKeys: Int

    /// spec/broker.md's defaults: 2 s (extended by at most 30 s while the node is behind), 256
    /// messages / 1 MiB per publisher, 4096 messages / 16 MiB in all, 10 minutes idle, 65 536
    /// publishers.
    public init(
        maxHold: Double = 2, maxHoldExtension: Double = 30, maxHeldPerKey: Int = 256, maxHeldBytesPerKey: Int = 1 << 20, maxHeldTotal: Int = 4096,
        maxHeldBytesTotal: Int = 16 << 20, idleAfter: Double = 600, maxKeys: Int = 65_536
    ) {
        self.maxHold = maxHold
        self.maxHoldExtension = maxHoldExtension
        self.maxHeldPerKey = maxHeldPerKey
        self.maxHeldBytesPerKey = maxHeldBytesPerKey
        self.maxHeldTotal = maxHeldTotal
        self.maxHeldBytesTotal = maxHeldBytesTotal
        self.idleAfter = idleAfter
        self.maxKeys = maxKeys
    }
}

/// What a ``PublisherOrder`` did so far (for `NYMBUS.STATUS`).
public struct PublisherOrderCounters: Sendable, Equatable {
    /// Gaps given up on: after ``Limits/maxHold``, or at once when a bound was reached.
    public var gapsSkipped = 0
    /// Numbers given up on in those gaps (messages that had not arrived).
    public var messagesSkipped = 0
    /// Gaps skipped at once because a bound was reached (also in ``gapsSkipped``).
    public var overflows = 0
    /// Messages released out of order: they came after their gap was skipped.
    public var late = 0
    /// Gaps held past ``PublisherOrderLimits/maxHold`` because the node had not yet handled
    /// everything that arrived before their deadline (a loaded node's own queue).
    public var holdsExtended = 0
    /// Second copies of a number already held: dropped.
    public var duplicates = 0
    /// Keys forgotten (idle, or past ``Limits/maxKeys``).
    public var keysForgotten = 0

    public init() {}
}
