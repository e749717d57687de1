import NymbusCrypto
import NymbusWire

/// The archive's rules without the bytes (spec/pubsub.md §16): which objects are kept, in
/// (timestamp, id) order, their sizes, the byte budget, retention and the horizon. Pure; both
/// archives keep one and store the bytes themselves (in memory, or in SQLite).
public struct ArchiveLedger: Sendable {
    public let limits: ArchiveLimits
    private var index = SyncIndex(sorted: [])
    private var sizes: [MessageID: Int] = [:]
    /// Bytes of the objects kept.
    public private(set) var bytes = 0
    /// Newest timestamp of an object that left before its retention ended; 0 if none.
    public private(set) var horizon: UInt32 = 0

    public init(limits: ArchiveLimits, horizon: UInt32 = 0) {
        self.limits = limits
        self.horizon = horizon
    }

    /// Objects kept.
    public var count: Int { sizes.count }

    /// Whether `id` is kept.
    public func contains(_ id: MessageID) -> Bool { sizes[id] != nil }

    /// What `insert` decided.
    public struct Insertion: Sendable {
        /// Whether the object is kept (false: known already, at or below the horizon, or larger
        /// than the whole budget, or evicted at once as the oldest).
        public let stored: Bool
        /// Objects that left to make room, oldest first.
        public let evicted: [SyncKey]
    }

    /// Takes an object of `size` bytes, evicting the oldest beyond the budget.
    public mutating func insert(_ key: SyncKey, size: Int) -> Insertion {
        let id = key.id
        guard sizes[id] == nil, key.timestamp > horizon, size <= limits.maxBytes else {
            return Insertion(stored: false, evicted: [])
        }
        sizes[id] = size
        index.insert(key)
        bytes += size
        var evicted: [SyncKey] = []
        while bytes > limits.maxBytes, evicted.count < index.count {
            let oldest = index.keys[evicted.count]
            evicted.append(oldest)
            bytes -= sizes.removeValue(forKey: oldest.id) ?? 0
            horizon = max(horizon, oldest.timestamp)
        }
        if !evicted.isEmpty { index.removeFirst(evicted.count) }
        return Insertion(stored: sizes[id] != nil, evicted: evicted)
    }

    /// Takes an object read back from storage (no budget check: storage held it).
    public mutating func restore(_ key: SyncKey, size: Int) {
        guard sizes[key.id] == nil else { return }
        sizes[key.id] = size
        index.insert(key)
        bytes += size
    }

    /// Drops the objects whose retention ended at `now`; returns them.
    public mutating func expire(now: Int64) -> [SyncKey] {
        let cutoff = Self.cutoffMinute(now: now, retention: limits.retention.wholeSeconds)
        let end = index.position(of: SyncBound(timestamp: cutoff, prefix: []))
        guard end > 0 else { return [] }
        let gone = Array(index.keys[..<end])
        for key in gone { bytes -= sizes.removeValue(forKey: key.id) ?? 0 }
        index.removeFirst(end)
        return gone
    }

    /// The keys with timestamp ≥ `minute`.
    public func index(from minute: UInt32) -> SyncIndex {
        let at = index.position(of: SyncBound(timestamp: minute, prefix: []))
        // The whole index shares its storage (copy on write): no copy per question.
        return at == 0 ? index : SyncIndex(sorted: Array(index.keys[at...]))
    }

    /// First minute still inside the retention at `now`: an object of minute m has expired once
    /// m·60 < now − retention.
    public static func cutoffMinute(now: Int64, retention: Int64) -> UInt32 {
        let seconds = now - retention
        guard seconds > 0 else { return 0 }
        return UInt32(clamping: (seconds + 59) / 60)
    }
}
