public import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny deterministic generator, so a randomized test,
/// topology or garbage input can be replayed from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed of a randomized test: fresh each run (so runs explore), or the value of
/// `NYMBUS_TEST_SEED` (so a failure replays).
///
/// The seed is printed to stderr when the generator is made (a trap kills the process before any
/// report, so it must be out first), and ``description`` names it for an expectation's message.
public struct SeededRandom: RandomNumberGenerator, Sendable, CustomStringConvertible {
    /// The environment variable that fixes the seed of every randomized test.
    public static let environmentVariable = "NYMBUS_TEST_SEED"

    public let seed: UInt64
    private var generator: SplitMix64

    /// A generator for the test `name`, seeded from the environment or at random.
    public init(_ name: String = #function, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let fixed = environment[Self.environmentVariable].flatMap { UInt64($0) }
        seed = fixed ?? UInt64.random(in: 0...UInt64.max)
        generator = SplitMix64(seed: seed)
        FileHandle.standardError.write(Data("\(name): \(self)\n".utf8))
    }

    public mutating func next() -> UInt64 { generator.next() }

    /// "seed N (replay with NYMBUS_TEST_SEED=N)".
    public var description: String { "seed \(seed) (replay with \(Self.environmentVariable)=\(seed))" }
}
