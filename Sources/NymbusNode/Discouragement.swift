public import NymClient
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
/// expires first is forgotten. Time is seconds on a monotonic clock, passed in.
struct DiscouragementList: Sendable {
    let duration: Double
    let capacity: Int
    private(set) var expiries: [DiscouragedKey: Double] = [:]

    init(duration: Double, capacity: Int = 10_000) {
        self.duration = duration
        self.capacity = max(1, capacity)
    }

    var count: Int { expiries.count }

    /// Discourages `key` from `now` for `duration`.
    mutating func discourage(_ key: DiscouragedKey, now: Double) {
        if expiries[key] == nil, expiries.count >= capacity {
            prune(now: now)
            if expiries.count >= capacity, let soonest = expiries.min(by: { $0.value < $1.value })?.key {
                expiries[soonest] = nil
            }
        }
        expiries[key] = now + duration
    }

    /// True while `key` is discouraged.
    func isDiscouraged(_ key: DiscouragedKey, now: Double) -> Bool {
        guard let until = expiries[key] else { return false }
        return until > now
    }

    /// Forgets expired entries.
    mutating func prune(now: Double) {
        expiries = expiries.filter { $0.value > now }
    }
}
