/// Capped exponential backoff with jitter, as a pure value (the caller sleeps).
///
/// Attempt `n` waits a random time in `[cap/2, cap]` where `cap = min(max, initial * 2^n)`
/// ("equal jitter"): never zero, never above `max`, and reconnecting clients spread out.
struct Backoff: Sendable {
    let initial: Double
    let maximum: Double
    private(set) var attempt = 0

    init(initial: Duration, maximum: Duration) {
        self.initial = max(0, initial.seconds)
        self.maximum = max(self.initial, maximum.seconds)
    }

    /// The next delay in seconds; each call doubles the cap until it reaches `maximum`.
    mutating func nextDelay<R: RandomNumberGenerator>(using rng: inout R) -> Double {
        var cap = initial
        var n = 0
        while n < attempt, cap < maximum {
            cap *= 2
            n += 1
        }
        cap = min(cap, maximum)
        if cap < maximum { attempt += 1 }
        guard cap > 0 else { return 0 }
        return cap / 2 + Double.random(in: 0...(cap / 2), using: &rng)
    }

    /// The next delay using the system random generator.
    mutating func nextDelay() -> Double {
        var rng = SystemRandomNumberGenerator()
        return nextDelay(using: &rng)
    }

    /// Back to the initial delay (after a connection became ready).
    mutating func reset() { attempt = 0 }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
