internal import CSodium

/// Makes sure `sodium_init` has run before any libsodium call.
///
/// `sodium_init` is thread-safe and idempotent; the static `let` runs it exactly once.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ensureInitialised() {
        precondition(initialised, "libsodium failed to initialise (sodium_init < 0)")
    }
}

/// Secure randomness and constant-time helpers from libsodium.
public enum SecureRandom {
    /// `count` bytes from the operating system's CSPRNG.
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureInitialised()
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return out
    }

    /// A uniformly random `UInt64`.
    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }

    /// A uniformly random integer in `0..<upperBound` without modulo bias.
    public static func uniform(_ upperBound: UInt32) -> UInt32 {
        Sodium.ensureInitialised()
        return randombytes_uniform(upperBound)
    }
}

/// Compares two byte sequences in time that depends only on their length.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    Sodium.ensureInitialised()
    return a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in sodium_memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0 }
    }
}
