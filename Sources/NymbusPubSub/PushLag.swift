import Foundation
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
        if estimator.samples == 0 {
            quietBeatsBeforeAnySample += 1
        } else {
            estimator.scale(by: Self.quietBeatFactor)
        }
    }

    /// Heartbeats with pushes before any lag was sampled.
    private(set) var quietBeatsBeforeAnySample = 0

    /// A fallback timeout (the links' round-trip timeout, used before any lag is sampled)
    /// shrunk as quiet heartbeats shrink a measured estimate, never below `floor`: pushes that
    /// keep beating their announcements say the race is being won. A hidden node's links time
    /// their round trips over reply SURBs, several seconds, and without this every push it lost
    /// after a prune waited that out (DisseminationBench at 2 objects/s: p99 6.1–6.7 s).
    func shrunk(_ milliseconds: Double, floor: Double) -> Double {
        let factor = pow(Self.quietBeatFactor, Double(min(quietBeatsBeforeAnySample, 64)))
        return max(floor, milliseconds * factor)
    }

    /// What a heartbeat with pushes and no lag leaves of the estimate.
    static var quietBeatFactor: Double { 0.75 }

    /// `smoothed + 4 × variation` in milliseconds, or nil before the first sample: how long an
    /// announced id may wait for its push before a graft is the better bet.
    var timeoutMilliseconds: Double? { estimator.timeout }
}
