import Foundation
import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusPubSub

/// The hex vectors of spec/pubsub.md, read from spec/vectors/pubsub.json (made by the independent
/// Python generator spec/vectors/pubsub_vectors.py).
struct PubSubVectors: Codable {
    struct TopicVector: Codable {
        var name: String?
        var isPublic: Bool
        var secret: String
        var encryptionKey: String
        var membershipSeed: String
        var topicID: String
        var invite: String
    }
    struct ObjectVector: Codable {
        var comment: String
        var topic: String
        var objectType: UInt32
        var timestamp: UInt32
        var nonce: String
        var payload: String
        var authorMode: String
        var authorPublicKey: String?
        var plaintext: String
        var object: String
        var messageID: String
    }
    var description: String
    var publicTopic: TopicVector
    var privateTopic: TopicVector
    var authorSecret: String
    var objects: [ObjectVector]
}

enum Fixed {
    static let publicName = "nymbus/demo"
    static let privateSecret = Array(UInt8(0x00)...UInt8(0x1f))
    static let privateName = "team"
    static let authorSecret = Array(UInt8(0x20)...UInt8(0x3f))
    static let nonce = Array(UInt8(0x40)...UInt8(0x57))
    static let timestamp: UInt32 = 29_000_000

    static var publicTopic: Topic { Topic.named(publicName) }
    static var privateTopic: Topic { try! Topic(secret: SecureBytes(privateSecret), name: privateName) }
    static var authorKeys: AuthorKeys { try! AuthorKeys(secret: SecureBytes(authorSecret)) }

    static func mode(_ name: String) -> AuthorMode {
        switch name {
        case "perTopic": .perTopic
        case "perNode": .perNode
        default: .none
        }
    }

    /// The objects the vectors pin down: (comment, topic, type, hop, payload, author mode).
    static let cases: [(String, String, UInt32, UInt8, [UInt8], String)] = [
        ("raw bytes, no author, smallest bucket (1536)", "public", 0, 16, Array("hello, nymbus".utf8), "none"),
        (
            "custom type 0x1001, per-topic author, private topic", "private", 0x1001, 16,
            ChatLine(nick: "ada", text: "hi team", sequence: 7).serializedBytes(), "perTopic"
        ),
        (
            "2000 raw bytes, per-node author, bucket 4096, hop limit 0", "public", 0, 0,
            (0..<2000).map { UInt8(truncatingIfNeeded: $0) }, "perNode"
        ),
    ]

    static func topicVector(_ topic: Topic) -> PubSubVectors.TopicVector {
        PubSubVectors.TopicVector(
            name: topic.name, isPublic: topic.isPublic, secret: Hex.encode(topic.secret.copyBytes()),
            encryptionKey: Hex.encode(topic.encryptionKey.copyBytes()),
            membershipSeed: Hex.encode(topic.membershipKey.seed.copyBytes()), topicID: Hex.encode(topic.id.bytes),
            invite: topic.invite)
    }

    static func build() throws -> PubSubVectors {
        var objects: [PubSubVectors.ObjectVector] = []
        for (comment, which, type, hop, payload, mode) in cases {
            let topic = which == "public" ? publicTopic : privateTopic
            let author = authorKeys.key(for: Fixed.mode(mode), topic: topic.id)
            let object = try TopicObject.seal(
                payload: payload, objectType: type, topic: topic, timestamp: timestamp, author: author,
                nonce: nonce)
            let plaintext = try XChaCha20Poly1305.open(
                object.ciphertext, key: topic.encryptionKey, nonce: object.nonce, associatedData: object.associatedData)
            objects.append(
                .init(
                    comment: comment, topic: which, objectType: type, timestamp: timestamp, nonce: Hex.encode(nonce), payload: Hex.encode(payload), authorMode: mode,
                    authorPublicKey: author.map { Hex.encode($0.publicKey.bytes) }, plaintext: Hex.encode(plaintext),
                    object: Hex.encode(object.bytes), messageID: object.messageID.description))
        }
        return PubSubVectors(
            description: "Nymbus pub/sub vectors (spec/pubsub.md). All byte strings are lower-case hex.",
            publicTopic: topicVector(publicTopic), privateTopic: topicVector(privateTopic),
            authorSecret: Hex.encode(authorSecret), objects: objects)
    }
}

@Suite struct VectorTests {
    static func load() throws -> PubSubVectors {
        try JSONDecoder().decode(PubSubVectors.self, from: Data(contentsOf: vectorsURL))
    }

    @Test func topicDerivationsMatchTheVectors() throws {
        let vectors = try Self.load()
        for (topic, vector) in [(Fixed.publicTopic, vectors.publicTopic), (Fixed.privateTopic, vectors.privateTopic)] {
            #expect(Hex.encode(topic.secret.copyBytes()) == vector.secret)
            #expect(Hex.encode(topic.encryptionKey.copyBytes()) == vector.encryptionKey)
            #expect(Hex.encode(topic.membershipKey.seed.copyBytes()) == vector.membershipSeed)
            #expect(Hex.encode(topic.id.bytes) == vector.topicID)
            #expect(topic.invite == vector.invite)
            #expect(topic.isPublic == vector.isPublic)
            let parsed = try Topic(invite: vector.invite)
            #expect(parsed == topic)
            #expect(parsed.name == vector.name)
            #expect(parsed.isPublic == vector.isPublic)
        }
        // The public derivation, spelled out as in spec §2.
        let expected = try Blake2b.hash(
            Array("nymbus/demo".utf8), outputLength: 32, key: Array("nymbus public topic v1".utf8))
        #expect(Hex.encode(expected) == vectors.publicTopic.secret)
    }

    @Test func encodingMatchesTheVectors() throws {
        let vectors = try Self.load()
        let built = try Fixed.build()
        #expect(built.objects.count == vectors.objects.count)
        for (mine, theirs) in zip(built.objects, vectors.objects) {
            #expect(mine.object == theirs.object, "\(theirs.comment)")
            #expect(mine.messageID == theirs.messageID, "\(theirs.comment)")
            #expect(mine.plaintext == theirs.plaintext, "\(theirs.comment)")
            #expect(mine.authorPublicKey == theirs.authorPublicKey)
        }
    }

    @Test func decodingTheVectorsGivesTheirFields() throws {
        let vectors = try Self.load()
        for v in vectors.objects {
            let topic = v.topic == "public" ? Fixed.publicTopic : Fixed.privateTopic
            let object = try TopicObject(bytes: hex(v.object))
            #expect(object.topicID == topic.id)
            #expect(object.objectType == v.objectType)
            #expect(object.timestamp == v.timestamp)
            #expect(object.bytes[TopicObject.reservedOffset] == 0)
            #expect(object.nonce == hex(v.nonce))
            #expect(object.messageID.description == v.messageID)
            #expect(object.hasValidMembershipSignature)
            #expect(object.bytes == hex(v.object))
            let plaintext = try object.open(with: topic, maxPayload: 65536)
            #expect(plaintext.payload == hex(v.payload))
            #expect(plaintext.author.map { Hex.encode($0.key.bytes) } == v.authorPublicKey)
            #expect(plaintext.encoded(paddedLength: hex(v.plaintext).count) == hex(v.plaintext))
            // Sizes are exactly buckets.
            #expect(SizeBuckets.default.sizes.contains(hex(v.object).count))
        }
        #expect(hex(vectors.objects[0].object).count == 1536)
        #expect(hex(vectors.objects[2].object).count == 4096)
    }

    @Test func theCustomTypeVectorDecodes() throws {
        let vectors = try Self.load()
        let line = try ChatLine(serializedBytes: hex(vectors.objects[1].payload))
        #expect(line == ChatLine(nick: "ada", text: "hi team", sequence: 7))
    }
}
