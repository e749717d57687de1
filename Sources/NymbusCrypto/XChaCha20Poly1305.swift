internal import CSodium

/// XChaCha20-Poly1305 (IETF construction) authenticated encryption from libsodium.
///
/// The 24-byte nonce is large enough to be chosen at random for every message.
public enum XChaCha20Poly1305 {
    /// Key length in bytes.
    public static let keyLength = 32
    /// Nonce length in bytes.
    public static let nonceLength = 24
    /// Authentication tag length in bytes.
    public static let tagLength = 16

    /// Encrypts `plaintext`, binding `associatedData`. Returns ciphertext followed by the tag.
    public static func seal(
        _ plaintext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8] = []
    ) throws(CryptoError) -> [UInt8] {
        try check(key: key, nonce: nonce)
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        var outLen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            plaintext.withUnsafeBufferPointer { m in
                associatedData.withUnsafeBufferPointer { ad in
                    crypto_aead_xchacha20poly1305_ietf_encrypt(
                        &out, &outLen, m.baseAddress, UInt64(m.count), ad.baseAddress, UInt64(ad.count), nil,
                        nonce, k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard rc == 0 else { throw CryptoError(.operationFailed, "XChaCha20-Poly1305 encryption failed") }
        return out
    }

    /// Decrypts and authenticates `ciphertext` (ciphertext followed by the tag).
    public static func open(
        _ ciphertext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8] = []
    ) throws(CryptoError) -> [UInt8] {
        try check(key: key, nonce: nonce)
        guard ciphertext.count >= tagLength else {
            throw CryptoError(.authenticationFailed, "ciphertext shorter than the 16-byte tag")
        }
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagLength)
        var outLen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            ciphertext.withUnsafeBufferPointer { c in
                associatedData.withUnsafeBufferPointer { ad in
                    out.withUnsafeMutableBufferPointer { o in
                        crypto_aead_xchacha20poly1305_ietf_decrypt(
                            o.baseAddress, &outLen, nil, c.baseAddress!, UInt64(c.count), ad.baseAddress,
                            UInt64(ad.count), nonce, k.bindMemory(to: UInt8.self).baseAddress!)
                    }
                }
            }
        }
        guard rc == 0 else {
            throw CryptoError(.authenticationFailed, "ciphertext does not authenticate (wrong key or tampered)")
        }
        return out
    }

    private static func check(key: SecureBytes, nonce: [UInt8]) throws(CryptoError) {
        guard key.count == keyLength else {
            throw CryptoError(.invalidKeyLength, "XChaCha20-Poly1305 key has 32 bytes, got \(key.count)")
        }
        guard nonce.count == nonceLength else {
            throw CryptoError(.invalidNonceLength, "XChaCha20-Poly1305 nonce has 24 bytes, got \(nonce.count)")
        }
    }
}
