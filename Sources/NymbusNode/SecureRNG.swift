import NymbusCrypto

/// A `RandomNumberGenerator` backed by libsodium, so peer and address choices cannot be
/// predicted by a peer that tries to steer them.
struct SecureRNG: RandomNumberGenerator {
    mutating func next() -> UInt64 { SecureRandom.uint64() }
}
