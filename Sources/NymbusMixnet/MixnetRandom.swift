import NymbusCrypto

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The local mixnet's random source: xoshiro256** seeded through SplitMix64.
///
/// Seedable so tests get the same losses, duplicates, delays and sender tags on every run; an
/// unseeded mixnet takes its seed from the OS CSPRNG. It decides simulation events only, never
/// anything secret, so a fast non-cryptographic generator is the right tool.
public struct MixnetRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// A generator seeded from the OS CSPRNG.
    public init() { self.init(seed: SecureRandom.uint64()) }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in `[0, 1)` with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform integer in `0..<count` (`count` must be positive).
    mutating func index(_ count: Int) -> Int { Int.random(in: 0..<count, using: &self) }

    /// `true` with probability `p` (never for 0, always for 1).
    mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        return unit() < p
    }

    /// An exponentially distributed duration with the given mean (zero for a zero mean).
    mutating func exponential(mean: Duration) -> Duration {
        guard mean > .zero else { return .zero }
        let u = 1.0 - unit()  // (0, 1], so the log is finite
        return mean * (-log(u))
    }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            var word = next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}
