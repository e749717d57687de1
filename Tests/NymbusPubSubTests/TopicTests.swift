import NymbusCrypto
import Testing

@testable import NymbusPubSub

@Suite struct TopicTests {
    @Test func publicTopicsAreDeterministicAndDistinct() {
        let a = Topic.named("weather")
        #expect(a == Topic.named("weather"))
        #expect(a.id.bytes == Topic.named("weather").id.bytes)
        #expect(a != Topic.named("Weather"))
        #expect(a.isPublic)
        #expect(a.name == "weather")
        // Secret, encryption key and membership seed are three different values.
        let secret = a.secret.copyBytes()
        #expect(secret != a.encryptionKey.copyBytes())
        #expect(secret != a.membershipKey.seed.copyBytes())
        #expect(a.encryptionKey.copyBytes() != a.membershipKey.seed.copyBytes())
        #expect(a.id.bytes == a.membershipKey.publicKey.bytes)
    }

    @Test func namesAreExactBytesWithoutNormalisation() {
        // "é" precomposed vs "e" + combining acute: equal as Swift strings, different topics.
        let composed = Topic.named("caf\u{E9}")
        let decomposed = Topic.named("cafe\u{301}")
        #expect(composed != decomposed)
        #expect(Topic.named(bytes: [0xff, 0x00]).name == nil)
        #expect(Topic.named(bytes: [0xff, 0x00]).isPublic)
    }

    @Test func randomTopicsArePrivateAndUnique() {
        let a = Topic.random(name: "team")
        let b = Topic.random(name: "team")
        #expect(a != b)
        #expect(!a.isPublic)
        #expect(a.name == "team")
        #expect(Topic.random().name == nil)
    }

    @Test func invitesRoundTrip() throws {
        for topic in [Topic.random(name: "team"), Topic.random(), Topic.named("nymbus/demo"), Topic.named("")] {
            let parsed = try Topic(invite: topic.invite)
            #expect(parsed == topic)
            #expect(parsed.secret == topic.secret)
            #expect(parsed.isPublic == topic.isPublic)
            #expect(parsed.nameBytes == topic.nameBytes)
            #expect(topic.invite.hasPrefix("nymbus:topic:"))
            // Surrounding whitespace (a pasted line) is fine.
            #expect(try Topic(invite: "  \(topic.invite)\n") == topic)
        }
    }

    @Test func everySingleCharacterTypoIsCaught() throws {
        let invite = Topic.random(name: "team").invite
        let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        var chars = Array(invite)
        var caught = 0
        var tried = 0
        for position in Topic.invitePrefix.count..<chars.count {
            let original = chars[position]
            let replacement = alphabet[(alphabet.firstIndex(of: original)! + 1) % alphabet.count]
            chars[position] = replacement
            tried += 1
            do {
                _ = try Topic(invite: String(chars))
            } catch {
                #expect(error.code == .invalidInvite)
                caught += 1
            }
            chars[position] = original
        }
        #expect(caught == tried)
    }

    @Test func malformedInvitesAreRefused() {
        let good = Topic.random(name: "x").invite
        for bad in [
            "", "nymbus:topic:", "nymbus:topic:0OIl", "nymbus:room:" + good.dropFirst(13),
            String(good.dropLast()), good + "1", "nymbus:topic:" + Base58.encode([UInt8](repeating: 7, count: 300)),
            "nymbus:topic:" + String(repeating: "z", count: 2000),
        ] {
            #expect(throws: PubSubError(.invalidInvite, "")) { try Topic(invite: bad) }
        }
        // A well-formed body with a wrong version.
        var body: [UInt8] = [2] + [UInt8](repeating: 1, count: 32) + [0]
        body += Array(Blake2b.digest32(body).prefix(4))
        #expect(throws: PubSubError(.invalidInvite, "")) { try Topic(invite: "nymbus:topic:" + Base58.encode(body)) }
        // A name length that does not match.
        var lying: [UInt8] = [1] + [UInt8](repeating: 1, count: 32) + [5, 65]
        lying += Array(Blake2b.digest32(lying).prefix(4))
        #expect(throws: PubSubError(.invalidInvite, "")) { try Topic(invite: "nymbus:topic:" + Base58.encode(lying)) }
    }

    @Test func aPrivateTopicNamedLikeAPublicOneIsStillPrivate() throws {
        let fake = Topic.random(name: "weather")
        let parsed = try Topic(invite: fake.invite)
        #expect(!parsed.isPublic)
        #expect(parsed != Topic.named("weather"))
    }

    @Test func descriptionsNeverShowTheSecret() {
        let topic = Topic.random(name: "team")
        let secretHex = Hex.encode(topic.secret.copyBytes())
        let secretB58 = Base58.encode(topic.secret.copyBytes())
        for text in [topic.description, String(describing: topic), String(reflecting: topic), "\(topic.id)"] {
            #expect(!text.contains(secretHex))
            #expect(!text.contains(secretB58))
            #expect(!text.contains(topic.invite))
        }
        #expect(topic.description.contains("private"))
    }

    @Test func authorKeysArePerTopicOrPerNode() throws {
        let keys = try AuthorKeys(secret: SecureBytes(randomCount: 32))
        let a = Topic.named("a").id
        let b = Topic.named("b").id
        #expect(keys.key(for: .none, topic: a) == nil)
        let perTopicA = try #require(keys.key(for: .perTopic, topic: a)).publicKey
        let perTopicB = try #require(keys.key(for: .perTopic, topic: b)).publicKey
        #expect(perTopicA != perTopicB)
        #expect(perTopicA == keys.key(for: .perTopic, topic: a)?.publicKey)
        let perNodeA = try #require(keys.key(for: .perNode, topic: a)).publicKey
        #expect(perNodeA == keys.key(for: .perNode, topic: b)?.publicKey)
        #expect(perNodeA != perTopicA)
        #expect(throws: PubSubError(.invalidConfiguration, "")) { try AuthorKeys(secret: SecureBytes([1, 2])) }
    }
}
