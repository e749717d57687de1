/// The bounded, time-windowed set of message ids a node has already handled.
///
/// A hash set answers "seen?" in O(1); a queue in insertion order drops ids once their window
/// has passed, in O(1) amortised. Ids are never evicted early: when the cache is full of live
/// ids, `insert` answers `.full` and the caller refuses the object rather than risk relaying a
/// duplicate later (spec/pubsub.md §7).
///
/// Memory: a `MessageID` is 32 bytes inline; the set stores it at a load factor ≤ 3/4 and the
/// queue stores it with an 8-byte expiry, so a full cache holds about
/// 32 × 4/3 + 40 ≈ 83 bytes per entry (8.3 MB at the default 100 000), plus up to one
/// queue's worth of slack between compactions.
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
    private var queue: [Entry] = []
    private var head = 0

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
        guard ids.count < capacity else { return .full }
        ids.insert(id)
        queue.append(Entry(id: id, expires: now + window))
        return .inserted
    }

    /// Forgets every id whose window has passed at `now`.
    ///
    /// Expiry follows insertion order; if the wall clock stepped back, a later entry may wait
    /// behind an earlier one a little longer, which only ever keeps ids longer.
    public mutating func expire(now: Int64) {
        while head < queue.count, queue[head].expires <= now {
            ids.remove(queue[head].id)
            head += 1
        }
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    /// Approximate bytes held, from the set's and the queue's allocated capacities.
    public var approximateBytes: Int {
        let setBuckets = ids.capacity * 4 / 3
        return setBuckets * MemoryLayout<MessageID>.stride + setBuckets / 8
            + queue.capacity * MemoryLayout<Entry>.stride
    }
}
