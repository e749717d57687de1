public import NymbusCrypto

/// Sizes of the address book's tables.
///
/// Shaped like Bitcoin Core's addrman, scaled down for a smaller network: a "new" table for
/// addresses we were told about and a "tried" table for addresses we reached ourselves. Both
/// are arrays of fixed-size buckets; an address's bucket and slot come from a keyed hash, so a
/// peer cannot aim its addresses at chosen slots, and all addresses from one source fall into
/// at most `newBucketsPerSource` buckets.
public struct AddressBookLimits: Sendable, Equatable {
    /// Buckets in the new table (Bitcoin Core: 1024).
    public var newBuckets: Int
    /// Buckets in the tried table (Bitcoin Core: 256).
    public var triedBuckets: Int
    /// Slots per bucket (Bitcoin Core: 64).
    public var bucketSize: Int
    /// New-table buckets reachable from one source (Bitcoin Core: 64 of 1024, 6.25 %).
    public var newBucketsPerSource: Int
    /// Tried-table buckets reachable from one gateway (Bitcoin Core: 8 per /16).
    public var triedBucketsPerGroup: Int

    /// 256 × 32 new slots (8192), 64 × 32 tried slots (2048); one source reaches 16 new
    /// buckets, i.e. at most 512 entries, 6.25 % of the new table, as in Bitcoin Core.
    public static let `default` = AddressBookLimits(
        newBuckets: 256, triedBuckets: 64, bucketSize: 32, newBucketsPerSource: 16, triedBucketsPerGroup: 8)

    /// Makes limits; every value is clamped to at least 1.
    public init(
        newBuckets: Int, triedBuckets: Int, bucketSize: Int, newBucketsPerSource: Int, triedBucketsPerGroup: Int
    ) {
        self.newBuckets = max(1, newBuckets)
        self.triedBuckets = max(1, triedBuckets)
        self.bucketSize = max(1, bucketSize)
        self.newBucketsPerSource = max(1, min(newBucketsPerSource, self.newBuckets))
        self.triedBucketsPerGroup = max(1, min(triedBucketsPerGroup, self.triedBuckets))
    }

    /// The most entries the book can hold.
    public var capacity: Int { (newBuckets + triedBuckets) * bucketSize }
}

/// One address the book knows.
public struct AddressBookEntry: Sendable, Equatable {
    /// The peer's Nym address.
    public var address: Recipient
    /// The services it announced (`Services.rawValue`).
    public var services: UInt64
    /// When it was last heard of, as gossiped (unix seconds).
    public var lastSeen: UInt32
    /// When we last dialed it (unix seconds, 0 = never).
    public var lastTry: Int64
    /// When a handshake with it last succeeded (unix seconds, 0 = never).
    public var lastSuccess: Int64
    /// Failed attempts since the last success.
    public var attempts: Int
    /// The bucketing group of whoever told us.
    var sourceGroup: [UInt8]
    /// True in the tried table (we reached it), false in the new table.
    public internal(set) var tried: Bool
}

/// The bounded, bucketed address book (Bitcoin Core's addrman, simplified).
///
/// Pure value type: no I/O, time passed in as unix seconds, randomness passed in. The secret
/// bucket key is generated once and persisted with the entries, so bucket positions survive a
/// restart but cannot be predicted by peers.
///
/// Simplifications against Bitcoin Core: one copy of an address (not up to 8), and a tried
/// collision moves the old entry back to the new table at once (no test-before-evict).
public struct AddressBook: Sendable {
    /// Outcome of `add`.
    public enum AddOutcome: Equatable, Sendable {
        /// A new entry was placed in the new table.
        case added
        /// The address was known; its last-seen time and services were refreshed.
        case updated
        /// Its slot held a good entry, so the new address was dropped.
        case collision
        /// Its timestamp makes it useless (too old or in the future).
        case rejected
    }

    /// Table sizes.
    public let limits: AddressBookLimits
    /// The secret bucket key (32 bytes).
    let key: [UInt8]
    private(set) var entries: [Recipient: AddressBookEntry] = [:] {
        didSet { changes &+= 1 }
    }
    /// Counts changes to the entries, so the node knows when the book needs writing.
    private(set) var changes = 0
    private var newSlots: [Int: Recipient] = [:]
    private var triedSlots: [Int: Recipient] = [:]

    /// An empty book with a fresh random key.
    public init(limits: AddressBookLimits = .default) {
        self.limits = limits
        self.key = SecureRandom.bytes(32)
    }

    /// An empty book with the given key (tests, and loading from disk).
    init(limits: AddressBookLimits, key: [UInt8]) {
        self.limits = limits
        self.key = key
    }

    /// Number of entries.
    public var count: Int { entries.count }
    /// Entries in the new table.
    public var newCount: Int { newSlots.count }
    /// Entries in the tried table.
    public var triedCount: Int { triedSlots.count }
    /// All entries, in no particular order.
    public var allEntries: [AddressBookEntry] { Array(entries.values) }

    /// The entry for `address`, if any.
    public func entry(for address: Recipient) -> AddressBookEntry? { entries[address] }

    /// True if the book holds `address`.
    public func contains(_ address: Recipient) -> Bool { entries[address] != nil }

    // MARK: - Adding and updating

    /// Adds an address we were told about, bucketed by `source`.
    ///
    /// Known addresses only get their last-seen time raised and services merged. An address
    /// whose slot is taken by a good entry is dropped; a terrible occupant is replaced.
    @discardableResult
    public mutating func add(
        _ address: Recipient, services: UInt64, lastSeen: UInt32, source: AddressSource, now: Int64
    ) -> AddOutcome {
        if var existing = entries[address] {
            existing.lastSeen = max(existing.lastSeen, lastSeen)
            existing.services |= services
            entries[address] = existing
            return .updated
        }
        let candidate = AddressBookEntry(
            address: address, services: services, lastSeen: lastSeen, lastTry: 0, lastSuccess: 0, attempts: 0,
            sourceGroup: source.groupBytes, tried: false)
        if AddressBook.isTerrible(candidate, now: now) { return .rejected }
        return placeInNew(candidate, now: now) ? .added : .collision
    }

    /// Records that we are dialing `address` (counts as a failure until `markGood`).
    public mutating func markAttempt(_ address: Recipient, now: Int64) {
        guard var entry = entries[address] else { return }
        entry.lastTry = now
        entry.attempts += 1
        entries[address] = entry
    }

    /// Records a completed handshake with `address`: moves (or adds) it to the tried table.
    public mutating func markGood(_ address: Recipient, services: UInt64, now: Int64) {
        let seen = UInt32(clamping: now)
        var entry =
            entries[address]
            ?? AddressBookEntry(
                address: address, services: services, lastSeen: seen, lastTry: now, lastSuccess: now, attempts: 0,
                sourceGroup: AddressSource.local.groupBytes, tried: false)
        entry.lastSeen = max(entry.lastSeen, seen)
        entry.lastSuccess = now
        entry.lastTry = max(entry.lastTry, now)
        entry.attempts = 0
        entry.services |= services
        if entry.tried {
            entries[address] = entry
            return
        }
        if let slot = slotOf(address, tried: false) { newSlots[slot] = nil }
        entries[address] = nil
        placeInTried(entry, now: now)
    }

    /// Forgets `address` (e.g. it turned out to be our own).
    public mutating func remove(_ address: Recipient) {
        guard let entry = entries[address] else { return }
        if let slot = slotOf(address, tried: entry.tried) {
            if entry.tried, triedSlots[slot] == address { triedSlots[slot] = nil }
            if !entry.tried, newSlots[slot] == address { newSlots[slot] = nil }
        }
        entries[address] = nil
    }

    // MARK: - Choosing

    /// Picks an address to dial, or nil if none qualifies.
    ///
    /// Like Bitcoin Core: the tried and new tables are chosen 50/50 (when both have candidates),
    /// then an entry at random weighted by its chance (0.66 per recent failure, up to 8).
    /// `exclude` filters out connected, discouraged and own addresses; addresses dialed less
    /// than `retryDelay` seconds ago are skipped.
    public func select(
        now: Int64, retryDelay: Int64, exclude: (Recipient) -> Bool, using rng: inout some RandomNumberGenerator
    ) -> Recipient? {
        var tried: [(Recipient, Double)] = []
        var fresh: [(Recipient, Double)] = []
        for entry in entries.values {
            if entry.lastTry != 0, now - entry.lastTry < retryDelay { continue }
            if exclude(entry.address) { continue }
            let chance = AddressBook.chance(entry, now: now)
            if entry.tried { tried.append((entry.address, chance)) } else { fresh.append((entry.address, chance)) }
        }
        let pool: [(Recipient, Double)]
        switch (tried.isEmpty, fresh.isEmpty) {
        case (true, true): return nil
        case (false, true): pool = tried
        case (true, false): pool = fresh
        case (false, false): pool = Bool.random(using: &rng) ? tried : fresh
        }
        let total = pool.reduce(0) { $0 + $1.1 }
        var pick = Double.random(in: 0..<max(total, .leastNormalMagnitude), using: &rng)
        for (address, weight) in pool {
            if pick < weight { return address }
            pick -= weight
        }
        return pool.last?.0
    }

    /// A random sample of at most `maximum` entries that are not terrible and not excluded
    /// (the answer to `getaddr`).
    public func sample(
        maximum: Int, now: Int64, exclude: (Recipient) -> Bool, using rng: inout some RandomNumberGenerator
    ) -> [AddressBookEntry] {
        guard maximum > 0 else { return [] }
        var pool = entries.values.filter { !AddressBook.isTerrible($0, now: now) && !exclude($0.address) }
        pool.shuffle(using: &rng)
        return Array(pool.prefix(maximum))
    }

    // MARK: - Quality

    /// Bitcoin Core's `IsTerrible`: an entry not worth keeping when its slot is wanted.
    static func isTerrible(_ entry: AddressBookEntry, now: Int64) -> Bool {
        if entry.lastTry != 0, now - entry.lastTry < 60 { return false }  // tried in the last minute
        let seen = Int64(entry.lastSeen)
        if seen > now + 600 { return true }  // from the future
        if seen == 0 || now - seen > 30 * 86_400 { return true }  // not seen in 30 days
        if entry.lastSuccess == 0, entry.attempts >= 3 { return true }  // never worked, 3 tries
        if now - entry.lastSuccess > 7 * 86_400, entry.attempts >= 10 { return true }  // 10 failures in a week
        return false
    }

    /// Bitcoin Core's `GetChance`: less likely after recent tries and failures.
    static func chance(_ entry: AddressBookEntry, now: Int64) -> Double {
        var chance = 1.0
        if entry.lastTry != 0, now - entry.lastTry < 600 { chance *= 0.01 }
        var factor = 1.0
        for _ in 0..<min(entry.attempts, 8) { factor *= 0.66 }
        return chance * factor
    }

    // MARK: - Buckets

    /// The new-table bucket for `address` told by `sourceGroup`.
    func newBucket(for address: Recipient, sourceGroup: [UInt8]) -> Int {
        let spread = hash([0x01] + address.gatewayKey + sourceGroup) % UInt64(limits.newBucketsPerSource)
        return Int(hash([0x02] + sourceGroup + bytes(spread)) % UInt64(limits.newBuckets))
    }

    /// The tried-table bucket for `address`.
    func triedBucket(for address: Recipient) -> Int {
        let spread = hash([0x03] + address.bytes) % UInt64(limits.triedBucketsPerGroup)
        return Int(hash([0x04] + address.gatewayKey + bytes(spread)) % UInt64(limits.triedBuckets))
    }

    /// The slot index (bucket × size + position) for `address` in `bucket`.
    func slot(for address: Recipient, bucket: Int, tried: Bool) -> Int {
        let position = hash([tried ? 0x06 : 0x05] + bytes(UInt64(bucket)) + address.bytes) % UInt64(limits.bucketSize)
        return bucket * limits.bucketSize + Int(position)
    }

    private func slotOf(_ address: Recipient, tried: Bool) -> Int? {
        guard let entry = entries[address] else { return nil }
        let bucket = tried ? triedBucket(for: address) : newBucket(for: address, sourceGroup: entry.sourceGroup)
        return slot(for: address, bucket: bucket, tried: tried)
    }

    private mutating func placeInNew(_ entry: AddressBookEntry, now: Int64) -> Bool {
        var entry = entry
        entry.tried = false
        let slot = slot(
            for: entry.address, bucket: newBucket(for: entry.address, sourceGroup: entry.sourceGroup), tried: false)
        if let occupant = newSlots[slot], occupant != entry.address {
            guard let old = entries[occupant], AddressBook.isTerrible(old, now: now) else { return false }
            entries[occupant] = nil
        }
        newSlots[slot] = entry.address
        entries[entry.address] = entry
        return true
    }

    private mutating func placeInTried(_ entry: AddressBookEntry, now: Int64) {
        var entry = entry
        entry.tried = true
        let slot = slot(for: entry.address, bucket: triedBucket(for: entry.address), tried: true)
        if let occupant = triedSlots[slot], occupant != entry.address, let evicted = entries[occupant] {
            entries[occupant] = nil
            triedSlots[slot] = nil
            _ = placeInNew(evicted, now: now)
        }
        triedSlots[slot] = entry.address
        entries[entry.address] = entry
    }

    private func hash(_ data: [UInt8]) -> UInt64 {
        let digest = (try? Blake2b.hash(data, outputLength: 16, key: key)) ?? Blake2b.digest32(key + data)
        return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    // MARK: - Snapshot

    /// Re-inserts entries read from disk, recomputing their slots from the stored key.
    /// Entries that collide are dropped, so a hand-edited file cannot overfill the book.
    mutating func restore(_ loaded: [AddressBookEntry], now: Int64) {
        for entry in loaded where entries[entry.address] == nil {
            if entry.tried {
                let slot = slot(for: entry.address, bucket: triedBucket(for: entry.address), tried: true)
                if triedSlots[slot] == nil {
                    triedSlots[slot] = entry.address
                    entries[entry.address] = entry
                    continue
                }
            }
            _ = placeInNew(entry, now: now)
        }
    }
}
