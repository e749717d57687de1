/// Decides when a node that has had no peer for too long says so, once: a pure state machine
/// (peer count and time in, "warn now" out), driven by ``NymbusDaemon`` every few seconds.
///
/// A node alone on the network accepts publishes into a bounded queue and delivers nothing to
/// anyone else; an operator should hear about it, but once per lonely spell, not every minute.
/// The spell ends when a peer links; the next spell can warn again.
public struct PeerlessWatch: Sendable, Hashable {
    /// How long without any peer before the warning.
    public let threshold: Duration
    /// Since when the node has had no peer; nil while it has one.
    public private(set) var alone: ContinuousClock.Instant?
    /// Whether this spell was already reported.
    public private(set) var warned = false

    /// A watch that starts counting at `start` (a node starts with no peer).
    public init(threshold: Duration, start: ContinuousClock.Instant) {
        self.threshold = threshold
        self.alone = start
    }

    /// Feeds the current peer count; returns how long the node has been alone when it is time
    /// to warn (exactly once per spell), else nil.
    public mutating func observe(peers: Int, at now: ContinuousClock.Instant) -> Duration? {
        guard peers == 0 else {
            alone = nil
            warned = false
            return nil
        }
        guard let since = alone else {
            alone = now
            return nil
        }
        guard !warned, now - since >= threshold else { return nil }
        warned = true
        return now - since
    }
}
