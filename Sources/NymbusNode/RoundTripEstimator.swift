/// A smoothed delay and its mean deviation, as RFC 6298 §2 smooths TCP's round trips
/// (α = 1/8, β = 1/4), and the timeout `smoothed + 4 × variation` built on them.
///
/// Every timer that must follow the mixnet's real delays rather than a LAN constant uses it: a
/// link's ping timeout (`PeerSession`), the topic layer's graft timeout (the lag of pushes behind
/// announcements). A pure value in whatever unit the caller samples in.
public struct RoundTripEstimator: Sendable, Equatable {
    /// The smoothed value; nil before the first sample.
    public private(set) var smoothed: Double?
    /// The smoothed mean deviation.
    public private(set) var variation: Double = 0
    /// Samples folded in.
    public private(set) var samples = 0

    public init() {}

    /// Folds in one sample (negative values count as 0). The first sets the estimate to the
    /// sample and the deviation to half of it (RFC 6298 §2.2).
    public mutating func add(_ sample: Double) {
        let sample = max(0, sample)
        samples += 1
        guard let current = smoothed else {
            smoothed = sample
            variation = sample / 2
            return
        }
        variation = 0.75 * variation + 0.25 * abs(current - sample)
        smoothed = 0.875 * current + 0.125 * sample
    }

    /// Scales the estimate and its deviation by `factor` (0…1): evidence that the value is lower
    /// now, where no sample can be taken to show it.
    public mutating func scale(by factor: Double) {
        let factor = min(1, max(0, factor))
        smoothed = smoothed.map { $0 * factor }
        variation *= factor
    }

    /// `smoothed + 4 × variation`, or nil before the first sample: how long to wait before a
    /// missing answer is more likely lost than late.
    public var timeout: Double? { smoothed.map { $0 + 4 * variation } }
}
