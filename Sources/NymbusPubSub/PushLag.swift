/// How late pushed objects arrive after their id was first announced to this node, smoothed as
/// RFC 6298 smooths round trips (α = 1/8, β = 1/4), so the graft timeout follows the mixnet's
/// real delays and the load on it rather than a LAN constant (spec/pubsub.md §15).
///
/// A sample is taken only when an announcement beat the pushed copy: that is exactly the race a
/// graft timeout must not lose. Objects pushed before any announcement, and objects fetched by a
/// request, say nothing about it.
struct PushLag: Sendable, Equatable {
    /// Smoothed lag, milliseconds; nil before the first sample.
    private(set) var smoothed: Double?
    /// Mean deviation, milliseconds.
    private(set) var variation: Double = 0
    /// Samples folded in.
    private(set) var samples = 0

    /// Folds in one lag (milliseconds; negative values count as 0).
    mutating func add(_ milliseconds: Int64) {
        let sample = Double(max(0, milliseconds))
        samples += 1
        guard let srtt = smoothed else {
            smoothed = sample
            variation = sample / 2
            return
        }
        variation = 0.75 * variation + 0.25 * abs(srtt - sample)
        smoothed = 0.875 * srtt + 0.125 * sample
    }

    /// `smoothed + 4 × variation` in milliseconds, or nil before the first sample: how long an
    /// announced id may wait for its push before a graft is the better bet.
    var timeoutMilliseconds: Double? { smoothed.map { $0 + 4 * variation } }
}
