import NymbusCrypto
import NymbusWire

/// Catch-up sync limits (spec/pubsub.md §16, defaults in §10).
public struct SyncSettings: Sendable, Equatable {
    /// Range splitting and message bounds.
    public var reconciler = RangeReconciler.Settings()
    /// Ids asked from one peer and not yet answered, at most (the answers are objects, one
    /// message each: kept under a link's burst, as repair's 200).
    public var maxInFlightPerPeer = 200
    /// How long before an asked id is asked again (whole seconds).
    public var requestTimeout: Duration = .seconds(10)
    /// Times an id is asked before it is given up.
    public var maxAttempts = 4
    /// How long after a link comes up its reconciliation starts (`syncAfterLinking`): the first
    /// messages of a link (verack, repair's catch-up `inv`, held publishes) go first, so the
    /// peer's handshake completes before more arrive (it holds at most 8 early messages).
    public var startDelay: Duration = .seconds(1)
    /// How long before an unanswered reconciliation round is started again (whole seconds).
    public var roundTimeout: Duration = .seconds(30)
    /// Rounds of one reconciliation, at most.
    public var maxRounds = 64
    /// Questions (`syncrange`) answered per peer: a burst, then this many per second.
    public var questionBurst = 32.0
    public var questionsPerSecond = 2.0
    /// Objects served per peer: a burst, then this many per second (half of what one nym-client
    /// sends, so live traffic keeps the rest).
    public var serveBurst = 500.0
    public var servedPerSecond = 25.0

    public init() {}

    /// Throws `invalidConfiguration` naming the first field out of its range (``FieldCheck``).
    public func validate() throws(PubSubError) {
        let check = FieldCheck<PubSubError>("SyncSettings", .invalidConfiguration)
        try check.within("reconciler.buckets", reconciler.buckets, 2...SyncRanges.maxRanges)
        try check.within("reconciler.maxRanges", reconciler.maxRanges, reconciler.buckets...SyncRanges.maxRanges)
        try check.within("reconciler.maxIDs", reconciler.maxIDs, 1...500)
        try check.within("reconciler.idListThreshold", reconciler.idListThreshold, 1...reconciler.maxIDs)
        try check.atLeast("maxInFlightPerPeer", maxInFlightPerPeer, 1)
        try check.atLeast("requestTimeout", requestTimeout, .seconds(1))
        try check.atLeast("maxAttempts", maxAttempts, 1)
        try check.atLeast("startDelay", startDelay, .zero)
        try check.atLeast("roundTimeout", roundTimeout, .seconds(1))
        try check.atLeast("maxRounds", maxRounds, 1)
        try check.above("questionBurst", questionBurst, 0)
        try check.above("questionsPerSecond", questionsPerSecond, 0)
        try check.above("serveBurst", serveBurst, 0)
        try check.above("servedPerSecond", servedPerSecond, 0)
    }
}

/// A token bucket on the topic layer's clock (whole seconds).
struct SyncBudget: Sendable {
    let burst: Double
    let rate: Double
    private var tokens: Double
    private var last: Int64

    init(burst: Double, rate: Double, now: Int64) {
        self.burst = burst
        self.rate = rate
        self.tokens = burst
        self.last = now
    }

    /// Takes up to `n` tokens; returns how many it took.
    mutating func take(upTo n: Int, now: Int64) -> Int {
        if now > last {
            tokens = min(burst, tokens + Double(now - last) * rate)
            last = now
        }
        let granted = min(n, Int(tokens))
        tokens -= Double(granted)
        return granted
    }
}
