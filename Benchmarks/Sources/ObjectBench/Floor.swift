import CSodiumBench

/// The floors: libsodium doing only the cryptography an object needs, on the same objects, in
/// place, with no allocation per object. Whatever the topic layer does on top (parsing, checks,
/// the seen cache, copies, the actor, the subscription stream) shows as the distance to these.
enum Floor {
    /// Initialises libsodium (idempotent; picks the fastest implementations for this CPU).
    static func initialise() { precondition(sodium_init() >= 0, "libsodium failed to initialise") }

    static let headerLength = 41  // version, topic id, type, timestamp: the AEAD's associated data
    static let prefixLength = 70  // header, hop limit, nonce, ciphertext length

    /// Receive floor per object: Ed25519 verify of the signed bytes, BLAKE2b-256 of them (the
    /// message id), XChaCha20-Poly1305 decrypt of the ciphertext. The signed bytes skip the hop
    /// limit, so they are first gathered into one buffer (a memcpy; Ed25519 needs them contiguous).
    /// Returns how many objects verified and decrypted (all of them, or the floor is broken).
    static func receive(_ objects: [[UInt8]], key: [UInt8]) -> Int {
        let capacity = (objects.map(\.count).max() ?? 0) + 64
        var signed = [UInt8](repeating: 0, count: capacity)
        var plain = [UInt8](repeating: 0, count: capacity)
        var digest = [UInt8](repeating: 0, count: 32)
        var good = 0
        for object in objects {
            let n = object.count - prefixLength - 64
            object.withUnsafeBufferPointer { o in
                signed.withUnsafeMutableBufferPointer { s in
                    plain.withUnsafeMutableBufferPointer { p in
                        let b = o.baseAddress!
                        let signedLength = headerLength + 24 + 4 + n
                        (s.baseAddress! + 0).update(from: b, count: headerLength)
                        (s.baseAddress! + headerLength).update(from: b + headerLength + 1, count: 28 + n)
                        let verified =
                            crypto_sign_verify_detached(b + prefixLength + n, s.baseAddress!, UInt64(signedLength), b + 1) == 0
                        crypto_generichash(&digest, 32, s.baseAddress!, UInt64(signedLength), nil, 0)
                        var plainLength: UInt64 = 0
                        let opened =
                            key.withUnsafeBufferPointer { k in
                                crypto_aead_xchacha20poly1305_ietf_decrypt(
                                    p.baseAddress!, &plainLength, nil, b + prefixLength, UInt64(n), b, UInt64(headerLength),
                                    b + headerLength + 1, k.baseAddress!)
                            } == 0
                        if verified && opened { good += 1 }
                    }
                }
            }
        }
        return good
    }

    /// Publish floor per object: a random 24-byte nonce, XChaCha20-Poly1305 encryption of an
    /// already padded plaintext, BLAKE2b-256 of the signed bytes (the id), Ed25519 sign.
    /// Returns how many objects were made (all of them, or the floor is broken).
    static func publish(
        count: Int, paddedPlaintext: [UInt8], header: [UInt8], key: [UInt8], secretKey: [UInt8]
    ) -> Int {
        let ciphertextLength = paddedPlaintext.count + 16
        var signed = [UInt8](repeating: 0, count: headerLength + 28 + ciphertextLength)
        var signature = [UInt8](repeating: 0, count: 64)
        var digest = [UInt8](repeating: 0, count: 32)
        var made = 0
        signed.withUnsafeMutableBufferPointer { s in
            let base = s.baseAddress!
            let total = UInt64(s.count)
            header.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: headerLength) }
            let length = UInt32(ciphertextLength)
            for i in 0..<4 { base[headerLength + 24 + i] = UInt8(truncatingIfNeeded: length >> (24 - 8 * UInt32(i))) }
            paddedPlaintext.withUnsafeBufferPointer { m in
                key.withUnsafeBufferPointer { k in
                    secretKey.withUnsafeBufferPointer { sk in
                        for _ in 0..<count {
                            randombytes_buf(base + headerLength, 24)
                            var written: UInt64 = 0
                            let sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(
                                base + headerLength + 28, &written, m.baseAddress!, UInt64(m.count), base,
                                UInt64(headerLength), nil, base + headerLength, k.baseAddress!)
                            crypto_generichash(&digest, 32, base, total, nil, 0)
                            let signedOK = crypto_sign_detached(&signature, nil, base, total, sk.baseAddress!)
                            if sealed == 0 && signedOK == 0 { made += 1 }
                        }
                    }
                }
            }
        }
        return made
    }

    /// The 64-byte libsodium secret key (seed ‖ public key) for a 32-byte seed, and its public key.
    static func keyPair(seed: [UInt8]) -> (secret: [UInt8], public: [UInt8]) {
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        return (sk, pk)
    }
}
