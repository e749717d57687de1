import FoundationEssentials

/// The two clocks a node reads, injectable so tests drive every timer without sleeping.
///
/// - `monotonic` times links and limits: handshake and peer timeouts, ping intervals, token
///   buckets, address-fetch and book-save intervals.
/// - `unix` stamps what outlives the process: address-book times, `version` timestamps,
///   relay freshness, the redial delay, and discouragement expiries (spec/node.md §8).
///
/// `system` reads the real clocks. A test passes closures over its own manual time, so that
/// an assertion about "after the timeout" or "within the token budget" does not depend on how
/// fast a loaded machine runs the test.
public struct NodeClock: Sendable {
    /// The current monotonic instant.
    public var monotonic: @Sendable () -> ContinuousClock.Instant
    /// The current Unix time in whole seconds.
    public var unix: @Sendable () -> Int64

    /// A clock made of the given readers.
    public init(
        monotonic: @escaping @Sendable () -> ContinuousClock.Instant, unix: @escaping @Sendable () -> Int64
    ) {
        self.monotonic = monotonic
        self.unix = unix
    }

    /// The real clocks: `ContinuousClock.now` and the system's Unix time.
    public static let system = NodeClock(
        monotonic: { ContinuousClock.now }, unix: { Int64(Date().timeIntervalSince1970) })
}
