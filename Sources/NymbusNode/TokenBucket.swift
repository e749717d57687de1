/// A token bucket: `rate` tokens a second up to `capacity`, spent one per item.
///
/// Used twice per link, as Bitcoin Core does for addresses (0.1 addresses a second, a burst of
/// 1000, and 1000 more when we ask for addresses ourselves) and for the link's message rate.
/// Time is passed in (seconds on a monotonic clock), so tests drive it without sleeping.
struct TokenBucket: Sendable, Equatable {
    /// Tokens refilled per second.
    let rate: Double
    /// The refill stops at this level (a grant can lift the level above it).
    let capacity: Double
    /// Tokens available now.
    private(set) var tokens: Double
    private var lastRefill: Double

    init(rate: Double, capacity: Double, initial: Double, now: Double) {
        self.rate = rate
        self.capacity = capacity
        self.tokens = initial
        self.lastRefill = now
    }

    /// Adds what accrued since the last refill, never above `capacity` (Bitcoin Core's rule:
    /// a bucket already above capacity from a grant does not grow further).
    mutating func refill(now: Double) {
        let elapsed = max(0, now - lastRefill)
        lastRefill = max(lastRefill, now)
        if tokens < capacity {
            tokens = min(capacity, tokens + elapsed * rate)
        }
    }

    /// Spends `count` tokens if there are that many; false (and nothing spent) otherwise.
    mutating func take(_ count: Double = 1, now: Double) -> Bool {
        refill(now: now)
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }

    /// Spends up to `count` whole tokens and returns how many it could.
    mutating func takeUpTo(_ count: Int, now: Double) -> Int {
        refill(now: now)
        let granted = max(0, min(count, Int(tokens.rounded(.down))))
        tokens -= Double(granted)
        return granted
    }

    /// Adds `count` tokens at once, which may exceed `capacity` (used when we ask a peer for
    /// addresses, so its answer is not rate limited away).
    mutating func grant(_ count: Double) {
        tokens += count
    }
}
