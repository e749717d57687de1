import NymbusCrypto
import NymbusTestSupport
import NymbusWire
import Testing

@testable import NymbusPubSub

@Suite struct ObjectCodecTests {
    static let topic = Topic.named("codec")

    static func sample(payload: [UInt8] = Array("payload".utf8), author: Ed25519.SigningKey? = nil)
        throws -> TopicObject
    {
        try TopicObject.seal(
            payload: payload, objectType: 0, topic: topic, timestamp: 29_000_000, author: author)
    }

    @Test func roundTripsAndOpens() throws {
        let author = Ed25519.SigningKey()
        let object = try Self.sample(author: author)
        let decoded = try TopicObject(bytes: object.bytes)
        #expect(decoded == object)
        #expect(decoded.hasValidMembershipSignature)
        let plaintext = try decoded.open(with: Self.topic, maxPayload: 1000)
        #expect(plaintext.payload == Array("payload".utf8))
        #expect(plaintext.author?.key == author.publicKey)
        #expect(object.bytes.count == 1536)
        #expect(object.bytes.count == TopicObject.overhead + object.ciphertext.count - XChaCha20Poly1305.tagLength)
    }

    @Test func sizesArePaddedToBuckets() throws {
        let maxInOne = 1536 - TopicObject.overhead - ObjectPlaintext.minimumLength
        #expect(maxInOne == 1381)
        #expect(try Self.sample(payload: []).bytes.count == 1536)
        #expect(try Self.sample(payload: [UInt8](repeating: 1, count: maxInOne)).bytes.count == 1536)
        #expect(try Self.sample(payload: [UInt8](repeating: 1, count: maxInOne + 1)).bytes.count == 4096)
        #expect(try Self.sample(payload: [UInt8](repeating: 1, count: 65536)).bytes.count == 81920)
        let withAuthor = try Self.sample(
            payload: [UInt8](repeating: 1, count: maxInOne - 96), author: Ed25519.SigningKey())
        #expect(withAuthor.bytes.count == 1536)
        #expect(SizeBuckets.default.maxPayload(withAuthor: false) == 98304 - 155)
        #expect(throws: PubSubError(.payloadTooLarge, "")) {
            try Self.sample(payload: [UInt8](repeating: 1, count: 98304))
        }
    }

    @Test func theReservedByteIsZeroAndTheIdCoversEverythingElse() throws {
        let object = try Self.sample()
        #expect(object.bytes[TopicObject.reservedOffset] == 0)
        var retyped = object
        retyped.objectType = 1
        #expect(retyped.messageID != object.messageID)
    }

    @Test func flippingAnySignedBitBreaksTheSignature() throws {
        let bytes = try Self.sample().bytes
        // Every byte except the hop limit is covered, including every ciphertext byte.
        for index in bytes.indices where index != TopicObject.reservedOffset {
            var tampered = bytes
            tampered[index] ^= 0x01
            if let object = try? TopicObject(bytes: tampered) {
                #expect(!object.hasValidMembershipSignature, "byte \(index)")
            }
        }
    }

    @Test func everyTruncationIsRefusedWithoutCrashing() throws {
        let bytes = try Self.sample().bytes
        for length in 0..<bytes.count {
            #expect(throws: PubSubError.self) { try TopicObject(bytes: Array(bytes.prefix(length))) }
        }
        #expect(throws: PubSubError(.malformedObject, "")) { try TopicObject(bytes: bytes + [0]) }
    }

    @Test func randomBytesNeverCrash() throws {
        var rng = SeededRandom()
        let valid = try Self.sample().bytes
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                // Mutate a valid object so parsing gets deep.
                bytes = valid
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if let object = try? TopicObject(bytes: bytes) {
                _ = object.hasValidMembershipSignature
                _ = try? object.open(with: Self.topic, maxPayload: 65536)
            }
        }
    }

    @Test func structuralRulesAreEnforced() throws {
        let bytes = try Self.sample().bytes
        var version = bytes
        version[0] = 2
        #expect(throws: PubSubError(.unsupportedVersion, "")) { try TopicObject(bytes: version) }
        // The reserved byte (once a hop limit) must be 0: a relay that marks copies is caught.
        for value: UInt8 in [1, 16, 0xff] {
            var marked = bytes
            marked[TopicObject.reservedOffset] = value
            #expect(throws: PubSubError(.malformedObject, "reserved byte at offset 41 is \(value), must be 0")) {
                try TopicObject(bytes: marked)
            }
        }
        var lyingLength = bytes
        lyingLength[66] = 0xff  // ciphertext length ≈ 4 GiB: refused before allocating
        #expect(throws: PubSubError(.malformedObject, "")) { try TopicObject(bytes: lyingLength) }
        var badPoint = bytes
        for i in 1...32 { badPoint[i] = 0 }  // the all-zero id is a small-order point
        #expect(throws: PubSubError(.malformedObject, "")) { try TopicObject(bytes: badPoint) }
        #expect(throws: PubSubError(.malformedObject, "")) { try TopicObject(bytes: bytes, maxBytes: 1535) }
    }

    @Test func plaintextRulesAreEnforced() throws {
        let plaintext = ObjectPlaintext(payload: [1, 2, 3], author: nil)
        let good = plaintext.encoded(paddedLength: 64)
        #expect(try ObjectPlaintext(decoding: good, maxPayload: 10) == plaintext)
        var padding = good
        padding[63] = 1
        #expect(throws: PubSubError(.decryptionFailed, "")) { try ObjectPlaintext(decoding: padding, maxPayload: 10) }
        var flags = good
        flags[0] = 4  // bits 0 (author) and 1 (order) are known; any other is refused
        #expect(throws: PubSubError(.decryptionFailed, "")) { try ObjectPlaintext(decoding: flags, maxPayload: 10) }
        #expect(throws: PubSubError(.decryptionFailed, "")) { try ObjectPlaintext(decoding: good, maxPayload: 2) }
        for length in 0..<ObjectPlaintext.minimumLength + 3 {
            #expect(throws: PubSubError.self) {
                try ObjectPlaintext(decoding: Array(good.prefix(length)), maxPayload: 10)
            }
        }
    }

    @Test func aMemberForgedCiphertextPassesRelaysButNotMembers() throws {
        // Someone with the secret signs garbage: relays cannot tell, members refuse it.
        let topic = Self.topic
        var object = try Self.sample()
        object.ciphertext = [UInt8](repeating: 0xaa, count: object.ciphertext.count)
        object.signature = topic.membershipKey.sign(object.signedBytes)
        #expect(object.hasValidMembershipSignature)
        #expect(throws: PubSubError(.decryptionFailed, "")) { try object.open(with: topic, maxPayload: 65536) }
        #expect(throws: PubSubError(.decryptionFailed, "")) {
            try Self.sample().open(with: Topic.named("other"), maxPayload: 65536)
        }
    }

    @Test func aSwappedAuthorSignatureIsRefused() throws {
        let topic = Self.topic
        let object = try Self.sample(author: Ed25519.SigningKey())
        var plaintext = try object.open(with: topic, maxPayload: 65536)
        plaintext.author = (Ed25519.SigningKey().publicKey, plaintext.author!.signature)
        var forged = object
        forged.ciphertext = try XChaCha20Poly1305.seal(
            plaintext.encoded(paddedLength: object.ciphertext.count - 16), key: topic.encryptionKey,
            nonce: object.nonce,
            associatedData: object.associatedData)
        forged.signature = topic.membershipKey.sign(forged.signedBytes)
        #expect(throws: PubSubError(.badAuthorSignature, "")) { try forged.open(with: topic, maxPayload: 65536) }
    }
}
