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

    /// `smoothed + 4 × variation` in milliseconds, or nil before the first sample: how long an
    /// announced id may wait for its push before a graft is the better bet.
    var timeoutMilliseconds: Double? { estimator.timeout }
}
