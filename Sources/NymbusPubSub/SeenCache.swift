/// The bounded, time-windowed set of message ids a node has already handled.
///
/// A hash set answers "seen?" in O(1); a ring buffer in insertion order drops ids once their
/// window has passed, in O(1) amortised. Ids are never evicted early: when the cache is full of
/// live ids, `insert` answers `.full` and the caller refuses the object rather than risk
/// relaying a duplicate later (spec/pubsub.md §8).
///
/// Memory: a `MessageID` is 32 bytes inline. The set keeps it in a power-of-two table at a load
/// factor ≤ 3/4 (bit map of 1 bit per bucket); the ring keeps it with an 8-byte expiry and never
/// grows past `capacity`. At the default capacity of 98 304 = ¾ · 2¹⁷ the table has 2¹⁷ buckets:
/// 131 072 × 32 B + 98 304 × 40 B ≈ 8.1 MB, about 83 bytes per entry.
public struct SeenCache: Sendable {
    private struct Entry: Sendable {
        let id: MessageID
        let expires: Int64
    }

    /// Result of `insert`.
    public enum InsertResult: Sendable, Equatable {
        /// The id was new and is now remembered until its window passes.
        case inserted
        /// The id was already remembered.
        case duplicate
        /// The id is new but the cache is full of ids still inside their window.
        case full
    }

    /// Most ids held at once.
    public let capacity: Int
    /// Seconds an id is remembered after it is inserted.
    public let window: Int64

    private var ids: Set<MessageID> = []
    private var ring: [Entry] = []
    private var head = 0
    private var queued = 0

    /// An empty cache.
    public init(capacity: Int, window: Int64) {
        precondition(capacity > 0 && window > 0, "a seen cache needs a positive capacity and window")
        self.capacity = capacity
        self.window = window
    }

    /// Ids held now (including any whose window passed but that were not yet swept).
    public var count: Int { ids.count }

    /// Whether `id` is remembered.
    public func contains(_ id: MessageID) -> Bool { ids.contains(id) }

    /// Remembers `id` until `now + window`, after sweeping expired ids.
    public mutating func insert(_ id: MessageID, now: Int64) -> InsertResult {
        expire(now: now)
        guard !ids.contains(id) else { return .duplicate }
        guard queued < capacity else { return .full }
        ids.insert(id)
        push(Entry(id: id, expires: now + window))
        return .inserted
    }

    /// Forgets every id whose window has passed at `now`.
    ///
    /// Expiry follows insertion order; if the wall clock stepped back, a later entry may wait
    /// behind an earlier one a little longer, which only ever keeps ids longer.
    public mutating func expire(now: Int64) {
        while queued > 0, ring[head].expires <= now {
            ids.remove(ring[head].id)
            head = (head + 1) % ring.count
            queued -= 1
        }
    }

    /// Bytes held by the set's table and the ring, from their allocated capacities.
    public var approximateBytes: Int {
        // `Set.capacity` is ¾ of its power-of-two bucket count.
        let buckets = ids.capacity == 0 ? 0 : (ids.capacity * 4 + 2) / 3
        return buckets * MemoryLayout<MessageID>.stride + buckets / 8 + ring.capacity * MemoryLayout<Entry>.stride
    }

    private mutating func push(_ entry: Entry) {
        if queued == ring.count {
            // Grow by doubling up to `capacity`, unrolling the ring so the oldest entry is first.
            // `insert` refuses at `capacity`, so the new ring always has a free slot.
            let grown = min(capacity, max(16, ring.count * 2))
            var fresh: [Entry] = []
            fresh.reserveCapacity(grown)
            for i in 0..<queued { fresh.append(ring[(head + i) % ring.count]) }
            fresh.append(contentsOf: repeatElement(entry, count: grown - queued))
            ring = fresh
            head = 0
        }
        ring[(head + queued) % ring.count] = entry
        queued += 1
    }
}
