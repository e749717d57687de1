import NymbusNode

/// How late pushed objects arrive after their id was first announced to this node, smoothed as
/// RFC 6298 smooths round trips (`RoundTripEstimator`), so the graft timeout follows the mixnet's
/// real delays and the load on it rather than a LAN constant (spec/pubsub.md §15).
///
/// A sample is taken when an announcement beat the pushed copy (exactly the race a graft timeout
/// must not lose), and when the push of an object this node had to fetch arrives after all (a
/// late push: the timeout was too short). Objects pushed before any announcement say nothing.
struct PushLag: Sendable, Equatable {
    private var estimator = RoundTripEstimator()

    /// Smoothed lag, milliseconds; nil before the first sample.
    var smoothed: Double? { estimator.smoothed }
    /// Samples folded in.
    var samples: Int { estimator.samples }

    /// Folds in one lag (milliseconds; negative values count as 0).
    mutating func add(_ milliseconds: Int64) { estimator.add(Double(milliseconds)) }

    /// Samples folded in when the last heartbeat passed (`beat`).
    private var samplesAtLastBeat = 0

    /// A heartbeat interval ended in which `pushed` objects came pushed. If some did and none
    /// lagged its announcement, the estimate shrinks by a quarter (`quietBeatFactor`): samples are
    /// taken only when a push lost the race, so without this an estimate an overload left (up
    /// to the 10 s cap) would stay until the next lag, and every push lost at low load would
    /// wait it out. Folding in zero samples instead decays too slowly (RFC 6298's weights raise
    /// the deviation first: 15 quiet heartbeats to fall below 10 s from 24 s); scaled, it takes
    /// 3, and 6 more to reach 2 s.
    mutating func beat(pushed: Int) {
        defer { samplesAtLastBeat = estimator.samples }
        guard pushed > 0, estimator.samples == samplesAtLastBeat else { return }
        estimator.scale(by: Self.quietBeatFactor)
    }

    /// What a heartbeat with pushes and no lag leaves of the estimate.
    static var quietBeatFactor: Double { 0.75 }

    /// `smoothed + 4 × variation` in milliseconds, or nil before the first sample: how long an
    /// announced id may wait for its push before a graft is the better bet.
    var timeoutMilliseconds: Double? { estimator.timeout }
}
