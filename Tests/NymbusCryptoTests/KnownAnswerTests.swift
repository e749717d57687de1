import NymbusCrypto
import Testing

/// Known-answer tests against published vectors, not just round trips.
@Suite struct Ed25519KnownAnswerTests {
    struct Vector: Sendable { let seed, publicKey, message, signature: String }

    // RFC 8032 section 7.1, TEST 1, 2 and 3.
    static let rfc8032 = [
        Vector(
            seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", message: "",
            signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        Vector(
            seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", message: "72",
            signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        Vector(
            seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", message: "af82",
            signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test(arguments: 0..<3)
    func rfc8032(index: Int) throws {
        let v = Self.rfc8032[index]
        let key = try Ed25519.SigningKey(seed: try Hex.decode(v.seed))
        #expect(Hex.encode(key.publicKey.bytes) == v.publicKey)
        let message = try Hex.decode(v.message)
        let signature = key.sign(message)
        #expect(Hex.encode(signature) == v.signature)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        var tampered = signature
        tampered[0] ^= 1
        #expect(!key.publicKey.isValidSignature(tampered, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
        #expect(throws: CryptoError(.invalidSignature, "")) { try key.publicKey.verify(tampered, for: message) }
    }

    @Test func pointValidation() throws {
        #expect(Ed25519.isValidPoint(try Hex.decode(Self.rfc8032[0].publicKey)))
        // The identity point (small order) and a y that is not on the curve are rejected.
        #expect(!Ed25519.isValidPoint([1] + [UInt8](repeating: 0, count: 31)))
        #expect(!Ed25519.isValidPoint([2] + [UInt8](repeating: 0, count: 31)))
        #expect(!Ed25519.isValidPoint([UInt8](repeating: 0, count: 31)))
        #expect(throws: CryptoError(.invalidPoint, "")) { try Ed25519.PublicKey(bytes: [2] + [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError(.invalidKeyLength, "")) { try Ed25519.SigningKey(seed: [1, 2, 3]) }
    }
}

@Suite struct XChaCha20Poly1305KnownAnswerTests {
    // draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    static let key = Array(UInt8(0x80)...UInt8(0x9f))
    static let nonce = Array(UInt8(0x40)...UInt8(0x57))
    static let aad: [UInt8] = [0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]
    static let plaintext = Array(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
    static let expected =
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
        + "c0875924c1c7987947deafd8780acf49"

    @Test func draftVector() throws {
        let key = SecureBytes(Self.key)
        let sealed = try XChaCha20Poly1305.seal(Self.plaintext, key: key, nonce: Self.nonce, associatedData: Self.aad)
        #expect(Hex.encode(sealed) == Self.expected)
        #expect(try XChaCha20Poly1305.open(sealed, key: key, nonce: Self.nonce, associatedData: Self.aad) == Self.plaintext)
    }

    @Test func tamperingWrongKeyAndBadLengthsFail() throws {
        let key = SecureBytes(Self.key)
        var sealed = try XChaCha20Poly1305.seal(Self.plaintext, key: key, nonce: Self.nonce, associatedData: Self.aad)
        sealed[5] ^= 0x01
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try XChaCha20Poly1305.open(sealed, key: key, nonce: Self.nonce, associatedData: Self.aad)
        }
        let good = try XChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: Self.nonce)
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try XChaCha20Poly1305.open(good, key: SecureBytes(randomCount: 32), nonce: Self.nonce)
        }
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try XChaCha20Poly1305.open(good, key: key, nonce: Self.nonce, associatedData: [9])
        }
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try XChaCha20Poly1305.open([1, 2, 3], key: key, nonce: Self.nonce)
        }
        #expect(throws: CryptoError(.invalidNonceLength, "")) { try XChaCha20Poly1305.seal([], key: key, nonce: [1]) }
        #expect(throws: CryptoError(.invalidKeyLength, "")) {
            try XChaCha20Poly1305.seal([], key: SecureBytes([1]), nonce: Self.nonce)
        }
        // Empty plaintext is legal: just the tag.
        #expect(try XChaCha20Poly1305.seal([], key: key, nonce: Self.nonce).count == 16)
    }
}

@Suite struct Blake2bKnownAnswerTests {
    @Test func rfc7693AndEmpty() throws {
        // RFC 7693 appendix A: BLAKE2b-512("abc").
        #expect(Hex.encode(try Blake2b.hash(Array("abc".utf8), outputLength: 64))
            == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
        #expect(Hex.encode(try Blake2b.hash([], outputLength: 64))
            == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce")
    }

    @Test func keyedVectorFromTheReferenceSuite() throws {
        // blake2b-kat.txt (BLAKE2 reference): key 00..3f, input empty and input 00.
        let key = Array(UInt8(0)...UInt8(63))
        #expect(Hex.encode(try Blake2b.hash([], outputLength: 64, key: key))
            == "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568")
        #expect(Hex.encode(try Blake2b.hash([0], outputLength: 64, key: key))
            == "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd")
    }

    @Test func limits() {
        #expect(throws: CryptoError(.invalidLength, "")) { try Blake2b.hash([], outputLength: 15) }
        #expect(throws: CryptoError(.invalidLength, "")) { try Blake2b.hash([], outputLength: 65) }
        #expect(throws: CryptoError(.invalidKeyLength, "")) { try Blake2b.hash([], key: [1, 2]) }
        #expect(Blake2b.digest32([1]).count == 32)
    }
}

@Suite struct KeyDerivationTests {
    @Test func deterministicAndSeparated() throws {
        let master = SecureBytes([UInt8](repeating: 7, count: 32))
        let a = try KeyDerivation.derive(from: master, id: 1, context: "nymbus01")
        let b = try KeyDerivation.derive(from: master, id: 1, context: "nymbus01")
        let c = try KeyDerivation.derive(from: master, id: 2, context: "nymbus01")
        let d = try KeyDerivation.derive(from: master, id: 1, context: "nymbus02")
        #expect(a == b)
        #expect(!(a == c))
        #expect(!(a == d))
        #expect(throws: CryptoError(.invalidLength, "")) { try KeyDerivation.derive(from: master, id: 1, context: "short") }
        #expect(throws: CryptoError(.invalidKeyLength, "")) {
            try KeyDerivation.derive(from: SecureBytes([1]), id: 1, context: "nymbus01")
        }
    }

    @Test func libsodiumKdfIsBlake2bKeyedWithSaltAndPersonal() throws {
        // crypto_kdf_blake2b = BLAKE2b-256 keyed with the master, salt = id (little-endian, zero-padded),
        // personal = context (zero-padded). Expected values from Python's hashlib.blake2b, an
        // independent implementation, so a change in derivation would be caught.
        let master = SecureBytes(Array(UInt8(0)...UInt8(31)))
        #expect(Hex.encode(try KeyDerivation.derive(from: master, id: 0, context: "KDF test").copyBytes())
            == "c13fcc2e6cd0cd0f82d93b163a5696c5105378f8c629d36baf3ae0239de9c280")
        #expect(Hex.encode(try KeyDerivation.derive(from: master, id: 7, context: "nymbus01").copyBytes())
            == "6a7a4fbdf61cad63b7a2b9af5241a4c0baf04c2be458a8c515209d133c5d8d5c")
    }
}

@Suite struct Base58Tests {
    // Bitcoin Core's base58_encode_decode.json.
    static let vectors: [(String, String)] = [
        ("", ""), ("61", "2g"), ("626262", "a3gV"), ("636363", "aPEr"),
        ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
        ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
        ("516b6fcd0f", "ABnLTmg"), ("bf4f89001e670274dd", "3SEo3LWLoPntC"), ("572e4794", "3EFU7m"),
        ("ecac89cad93923c02321", "EJDM8drfXA6uyA"), ("10c8511e", "Rt5zm"), ("00000000000000000000", "1111111111"),
    ]

    @Test(arguments: 0..<12)
    func bitcoinVectors(index: Int) throws {
        let (hex, b58) = Self.vectors[index]
        #expect(Base58.encode(try Hex.decode(hex)) == b58)
        #expect(Hex.encode(try Base58.decode(b58)) == hex)
    }

    @Test func invalidCharactersAndLengthAreRejected() {
        for bad in ["0", "O", "I", "l", "abc!", "é"] {
            #expect(throws: CryptoError(.invalidBase58, "")) { try Base58.decode(bad) }
        }
        #expect(throws: CryptoError(.invalidBase58, "")) { try Base58.decode(String(repeating: "2", count: 1025)) }
    }

    @Test func randomRoundTrips() throws {
        for n in 0..<200 {
            let bytes = [UInt8](repeating: 0, count: n % 4) + SecureRandom.bytes(n % 70)
            #expect(try Base58.decode(Base58.encode(bytes)) == bytes)
        }
    }
}

@Suite struct RecipientTests {
    static let example =
        "CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f"

    @Test func exampleAddressRoundTrips() throws {
        let recipient = try Recipient(string: Self.example)
        #expect(recipient.description == Self.example)
        #expect(recipient.bytes.count == 96)
        #expect(try Recipient(bytes: recipient.bytes) == recipient)
    }

    @Test func malformedAddressesAreRejected() {
        let (client, gateway) = (Self.example.split(separator: "@")[0], Self.example.split(separator: "@")[1])
        for bad in [
            "no-at-sign", "\(client)@\(gateway)@\(gateway)", "\(client.split(separator: ".")[0])@\(gateway)",
            "\(client).x@\(gateway)", "\(client)@2222", "\(client)@0OIl",
        ] {
            #expect(throws: CryptoError.self) { try Recipient(string: bad) }
        }
        // A gateway that is not an Ed25519 point.
        let recipient = try! Recipient(string: Self.example)
        #expect(throws: CryptoError(.invalidPoint, "")) {
            try Recipient(identityKey: recipient.identityKey, encryptionKey: recipient.encryptionKey,
                          gatewayKey: [2] + [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: CryptoError(.invalidLength, "")) { try Recipient(bytes: [1, 2]) }
    }

    @Test func randomAddressesAreValid() throws {
        let r = Recipient.random()
        #expect(try Recipient(string: r.description) == r)
    }
}

@Suite struct SecureBytesTests {
    @Test func equalityAndCopy() {
        let a = SecureBytes([1, 2, 3])
        #expect(a == SecureBytes([1, 2, 3]))
        #expect(!(a == SecureBytes([1, 2, 4])))
        #expect(a.copyBytes() == [1, 2, 3])
        #expect(SecureBytes([]).count == 0)
        #expect(constantTimeEquals([1, 2], [1, 2]))
        #expect(!constantTimeEquals([1, 2], [1, 3]))
        #expect(!constantTimeEquals([1], [1, 2]))
    }
}
