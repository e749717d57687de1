internal import CSodium
import Synchronization

/// Ed25519 signatures (RFC 8032) from libsodium.
public enum Ed25519 {
    /// Length of a public key.
    public static let publicKeyLength = 32
    /// Length of a seed (the RFC 8032 private key).
    public static let seedLength = 32
    /// Length of a signature.
    public static let signatureLength = 64

    /// An Ed25519 public key.
    public struct PublicKey: Hashable, Sendable {
        /// The 32-byte compressed point.
        public let bytes: [UInt8]

        /// Wraps 32 bytes after checking that they are a valid, prime-order Ed25519 point.
        public init(bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == Ed25519.publicKeyLength else {
                throw CryptoError(.invalidKeyLength, "an Ed25519 public key has 32 bytes, got \(bytes.count)")
            }
            guard Ed25519.isValidPoint(bytes) else {
                throw CryptoError(.invalidPoint, "the 32 bytes are not a valid Ed25519 point")
            }
            self.bytes = bytes
        }

        /// Checks `signature` over `message`.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            guard signature.count == Ed25519.signatureLength else { return false }
            Sodium.ensureInitialised()
            return signature.withUnsafeBufferPointer { sig in
                message.withUnsafeBufferPointer { msg in
                    bytes.withUnsafeBufferPointer { pk in
                        crypto_sign_verify_detached(sig.baseAddress!, msg.baseAddress, UInt64(msg.count), pk.baseAddress!) == 0
                    }
                }
            }
        }

        /// Like `isValidSignature` but throws a typed error naming the failure.
        public func verify(_ signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
            guard isValidSignature(signature, for: message) else {
                throw CryptoError(.invalidSignature, "Ed25519 signature does not verify")
            }
        }
    }

    /// An Ed25519 key pair. The secret part lives in `SecureBytes`.
    public struct SigningKey: Sendable {
        /// The 32-byte seed; everything else is derived from it.
        public let seed: SecureBytes
        private let expandedSecret: SecureBytes
        /// The matching public key.
        public let publicKey: PublicKey

        /// A fresh random key pair.
        public init() {
            try! self.init(seed: SecureBytes(randomCount: Ed25519.seedLength))
        }

        /// The key pair for a 32-byte seed (deterministic, RFC 8032).
        public init(seed: SecureBytes) throws(CryptoError) {
            guard seed.count == Ed25519.seedLength else {
                throw CryptoError(.invalidKeyLength, "an Ed25519 seed has 32 bytes, got \(seed.count)")
            }
            Sodium.ensureInitialised()
            var pk = [UInt8](repeating: 0, count: 32)
            var sk = [UInt8](repeating: 0, count: 64)
            let rc = seed.withUnsafeBytes { s in
                crypto_sign_seed_keypair(&pk, &sk, s.bindMemory(to: UInt8.self).baseAddress!)
            }
            defer { sodium_memzero(&sk, sk.count) }
            guard rc == 0 else { throw CryptoError(.operationFailed, "crypto_sign_seed_keypair failed") }
            self.seed = seed
            self.expandedSecret = SecureBytes(sk)
            // libsodium always produces a valid point from a seed.
            self.publicKey = try PublicKey(bytes: pk)
        }

        /// Convenience for a seed given as plain bytes (copied into secure storage).
        public init(seed: [UInt8]) throws(CryptoError) {
            try self.init(seed: SecureBytes(seed))
        }

        /// Signs `message` (deterministic: same key and message give the same signature).
        public func sign(_ message: [UInt8]) -> [UInt8] {
            var sig = [UInt8](repeating: 0, count: Ed25519.signatureLength)
            expandedSecret.withUnsafeBytes { sk in
                message.withUnsafeBufferPointer { msg in
                    _ = crypto_sign_detached(
                        &sig, nil, msg.baseAddress, UInt64(msg.count), sk.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
            return sig
        }
    }

    /// Whether 32 bytes are a canonical, prime-order Ed25519 point.
    ///
    /// nym-client accepts any point that decompresses (ed25519-dalek `VerifyingKey::from_bytes`);
    /// libsodium also rejects the eight small-order and the mixed-order encodings. No honestly
    /// generated key is among those, so the stricter check loses nothing and refuses weak keys.
    public static func isValidPoint(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == publicKeyLength else { return false }
        if ValidPointCache.shared.contains(bytes) { return true }
        Sodium.ensureInitialised()
        let valid = bytes.withUnsafeBufferPointer { crypto_core_ed25519_is_valid_point($0.baseAddress!) == 1 }
        if valid { ValidPointCache.shared.insert(bytes) }
        return valid
    }
}

/// Points already found valid. The subgroup check costs about as much as a signature check, and
/// the same few keys (topic ids, peers' addresses) come back with every object and message.
/// Bounded: when full it starts over, so an attacker cycling keys only costs itself the check.
private final class ValidPointCache: Sendable {
    static let shared = ValidPointCache()
    static let capacity = 4096
    private let points = Mutex<Set<[UInt8]>>([])

    func contains(_ bytes: [UInt8]) -> Bool { points.withLock { $0.contains(bytes) } }

    func insert(_ bytes: [UInt8]) {
        points.withLock { points in
            if points.count >= ValidPointCache.capacity { points.removeAll(keepingCapacity: true) }
            points.insert(bytes)
        }
    }
}
