public import NymbusTransport
public import NymbusCrypto

/// What the node discourages after misbehaviour: a proven Nym address, or the sender tag a
/// hidden peer used (nym-client keeps one tag per sender and recipient, so it is a stable
/// pseudonym for that peer).
public enum DiscouragedKey: Hashable, Sendable, CustomStringConvertible {
    case address(Recipient)
    case tag(SenderTag)

    public var description: String {
        switch self {
        case .address(let a): "address \(String(a.description.prefix(16)))…"
        case .tag(let t): "tag \(t)"
        }
    }
}

/// Addresses and tags that misbehaved, each until an expiry time.
///
/// Like Bitcoin Core's discouragement: a discouraged address is not dialed and its inbound
/// links are refused until the entry expires. The list is bounded; when full, the entry that
/// expires first is forgotten. Time is Unix seconds, passed in, because the list is saved in
/// the data directory and must mean the same after a restart (`DiscouragementStore`).
struct DiscouragementList: Sendable {
    let duration: Int64
    let capacity: Int
    private(set) var expiries: [DiscouragedKey: Int64] = [:]
    /// True when the list changed since the last `markSaved()` (it is written on the next tick).
    private(set) var isDirty = false

    init(duration: Int64, capacity: Int = 10_000) {
        self.duration = max(0, duration)
        self.capacity = max(1, capacity)
    }

    /// A list holding the unexpired `entries` (read from disk); when there are more than
    /// `capacity`, those that expire last are kept.
    init(duration: Int64, capacity: Int = 10_000, restoring entries: [DiscouragedKey: Int64], now: Int64) {
        self.init(duration: duration, capacity: capacity)
        let live = entries.filter { $0.value > now }
        if live.count <= self.capacity {
            expiries = live
        } else {
            let kept = live.sorted { $0.value > $1.value }.prefix(self.capacity)
            expiries = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
        isDirty = live.count != entries.count
    }

    var count: Int { expiries.count }

    /// Discourages `key` from `now` for `duration`.
    mutating func discourage(_ key: DiscouragedKey, now: Int64) {
        if expiries[key] == nil, expiries.count >= capacity {
            prune(now: now)
            if expiries.count >= capacity, let soonest = expiries.min(by: { $0.value < $1.value })?.key {
                expiries[soonest] = nil
            }
        }
        expiries[key] = now + duration
        isDirty = true
    }

    /// True while `key` is discouraged.
    func isDiscouraged(_ key: DiscouragedKey, now: Int64) -> Bool {
        guard let until = expiries[key] else { return false }
        return until > now
    }

    /// Forgets expired entries.
    mutating func prune(now: Int64) {
        let before = expiries.count
        expiries = expiries.filter { $0.value > now }
        if expiries.count != before { isDirty = true }
    }

    /// Records that the current list is on disk.
    mutating func markSaved() { isDirty = false }
}
