internal import CSodium

/// BLAKE2b hashing (RFC 7693) from libsodium, plain or keyed.
public enum Blake2b {
    /// Hashes `message` to `outputLength` bytes (16...64), optionally keyed with 16...64 bytes.
    public static func hash(_ message: [UInt8], outputLength: Int = 32, key: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        guard (16...64).contains(outputLength) else {
            throw CryptoError(.invalidLength, "BLAKE2b output must be 16...64 bytes, asked for \(outputLength)")
        }
        guard key.isEmpty || (16...64).contains(key.count) else {
            throw CryptoError(.invalidKeyLength, "BLAKE2b key must be 16...64 bytes, got \(key.count)")
        }
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: outputLength)
        let rc = message.withUnsafeBufferPointer { m in
            key.withUnsafeBufferPointer { k in
                crypto_generichash(&out, outputLength, m.baseAddress, UInt64(m.count), k.baseAddress, k.count)
            }
        }
        guard rc == 0 else { throw CryptoError(.operationFailed, "crypto_generichash failed") }
        return out
    }

    /// A 32-byte unkeyed digest; cannot fail.
    public static func digest32(_ message: [UInt8]) -> [UInt8] {
        try! hash(message, outputLength: 32)
    }
}

/// Derives independent subkeys from one master secret (libsodium `crypto_kdf`, BLAKE2b based).
public enum KeyDerivation {
    /// Length of the master key.
    public static let masterKeyLength = 32

    /// The subkey number `id` of `length` bytes (16...64) in the 8-character `context`.
    ///
    /// Different contexts or ids give unrelated keys, so one topic secret can safely yield an
    /// identifier, an encryption key and a signing seed.
    public static func derive(
        from master: SecureBytes, id: UInt64, context: String, length: Int = 32
    ) throws(CryptoError) -> SecureBytes {
        let ctx = Array(context.utf8)
        guard ctx.count == 8 else {
            throw CryptoError(.invalidLength, "KDF context must be exactly 8 bytes, got \(ctx.count)")
        }
        guard master.count == masterKeyLength else {
            throw CryptoError(.invalidKeyLength, "KDF master key has 32 bytes, got \(master.count)")
        }
        guard (16...64).contains(length) else {
            throw CryptoError(.invalidLength, "KDF subkey must be 16...64 bytes, asked for \(length)")
        }
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: length)
        defer { sodium_memzero(&out, out.count) }
        let rc = master.withUnsafeBytes { mk in
            ctx.withUnsafeBufferPointer { c in
                c.withMemoryRebound(to: CChar.self) { cc in
                    crypto_kdf_derive_from_key(&out, length, id, cc.baseAddress!, mk.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard rc == 0 else { throw CryptoError(.operationFailed, "crypto_kdf_derive_from_key failed") }
        return SecureBytes(out)
    }
}
