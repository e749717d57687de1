import Logging
import NymbusCrypto
import NymbusTestSupport
import NymbusWire
import Testing

@testable import NymbusPubSub

/// One `PubSub` against the recording stand-in: the router logic of a single node. Everything
/// that crosses between nodes is tested over the local mixnet (MixnetPubSubTests).
@Suite struct PubSubActorTests {
    static func make(
        peers: Set<Int> = [1, 2, 3], clock: TestClock = TestClock(),
        configure: (inout PubSubConfiguration) -> Void = { _ in }
    ) throws -> (PubSub<RecordingNetwork>, RecordingNetwork, TestClock) {
        var config = PubSubConfiguration()
        configure(&config)
        let network = RecordingNetwork(peers: peers)
        return (try PubSub(network: network, configuration: config, clock: clock.function), network, clock)
    }

    static func foreignObject(
        _ topic: Topic, clock: TestClock, payload: [UInt8] = Array("from afar".utf8)
    ) throws -> [UInt8] {
        try TopicObject.seal(
            payload: payload, objectType: 0, topic: topic, timestamp: UInt32(clock.now / 60), author: nil
        ).bytes
    }

    @Test func publishReachesOwnSubscriptionAndEveryPeerOnce() async throws {
        let (pubsub, network, _) = try Self.make()
        let topic = Topic.named("news")
        let collector = await Collector.start(await pubsub.subscribe(topic))
        let result = try await pubsub.publish(Array("hello".utf8), to: topic)
        #expect(result.transmissions == 3)
        #expect(!result.queued)
        #expect(result.localDeliveries == 1)
        let got = await collector.waitFor(1)
        #expect(got.count == 1)
        #expect(got.first?.payload == Array("hello".utf8))
        #expect(got.first?.isOwn == true)
        #expect(got.first?.author == nil)
        #expect(got.first?.messageID == result.messageID)
        let sent = await network.sent
        #expect(sent.count == 1)
        #expect(sent.first?.except == nil)
        let object = try TopicObject(bytes: try #require(sent.first?.bytes))
        #expect(sent[0].bytes[TopicObject.reservedOffset] == 0, "nothing says this copy comes from its publisher")
        #expect(object.topicID == topic.id)
        // The echo from a peer is a duplicate: no second delivery, no forward, no penalty.
        await pubsub.handleIncoming(object: sent[0].bytes, from: 2)
        let stats = await pubsub.statistics
        #expect(stats.duplicates == 1)
        #expect(stats.published == 1)
        #expect(stats.transmissions == 3)
        #expect(await network.sent.count == 1)
        #expect(await network.penalties.isEmpty)
        // Every delivery is handed to the subscription inside the awaited call: the count is final.
        #expect(await pubsub.statistics.deliveries == 1)
        #expect(await eventually { await collector.count == 1 })
    }

    @Test func membersAndNonMembersForwardAlikeButOnlyMembersDeliver() async throws {
        let topic = Topic.random(name: "club")
        let (member, memberNet, clock) = try Self.make()
        let (outsider, outsiderNet, _) = try Self.make(clock: clock)
        let collector = await Collector.start(await member.subscribe(topic))
        let bytes = try Self.foreignObject(topic, clock: clock)
        await member.handleIncoming(object: bytes, from: 2)
        await outsider.handleIncoming(object: bytes, from: 2)
        let a = await memberNet.sent
        let b = await outsiderNet.sent
        #expect(a == b)
        #expect(a == [RecordingNetwork.Sent(bytes: bytes, except: 2)], "relayed byte for byte")
        #expect(await collector.waitFor(1).first?.payload == Array("from afar".utf8))
        #expect(await member.statistics.delivered == 1)
        #expect(await member.statistics.transmissions == 2)
        #expect(await outsider.statistics.delivered == 0)
        #expect(await outsider.statistics.forwarded == 1)
    }

    @Test func invalidObjectsArePenalisedAndNotForwarded() async throws {
        let topic = Topic.named("target")
        let (pubsub, network, clock) = try Self.make()
        var forged = try Self.foreignObject(topic, clock: clock)
        forged[100] ^= 1
        await pubsub.handleIncoming(object: forged, from: 3)
        await pubsub.handleIncoming(object: [1, 2, 3], from: 2)
        // Honest-looking refusals: too old, unknown version. No penalty.
        clock.advance(-3600)
        let old = try Self.foreignObject(topic, clock: clock)
        clock.advance(3600)
        await pubsub.handleIncoming(object: old, from: 1)
        var future = try Self.foreignObject(topic, clock: clock)
        future[0] = 2
        await pubsub.handleIncoming(object: future, from: 1)
        let stats = await pubsub.statistics
        #expect(stats.droppedBadSignature == 1)
        #expect(stats.droppedMalformed == 1)
        #expect(stats.droppedTooOld == 1)
        #expect(stats.droppedUnsupportedVersion == 1)
        #expect(stats.dropped == 4)
        #expect(stats.penalties == 2)
        #expect(await network.penalties.map(\.peer) == [3, 2])
        #expect(await network.sent.isEmpty)
    }

    @Test func aMemberForgedCiphertextIsRelayedCountedNotPenalised() async throws {
        let topic = Topic.named("garbled")
        let (pubsub, network, clock) = try Self.make()
        let collector = await Collector.start(await pubsub.subscribe(topic))
        var object = try TopicObject(bytes: try Self.foreignObject(topic, clock: clock))
        object.ciphertext = [UInt8](repeating: 7, count: object.ciphertext.count)
        object.signature = topic.membershipKey.sign(object.signedBytes)
        await pubsub.handleIncoming(object: object.bytes, from: 1)
        #expect(await pubsub.statistics.decryptFailed == 1)
        #expect(await pubsub.statistics.penalties == 0)
        #expect(await network.sent.count == 1)
        // Every delivery is handed to the subscription inside the awaited call: none was.
        #expect(await pubsub.statistics.deliveries == 0)
        #expect(await collector.count == 0)
    }

    @Test func publishesWithoutPeersWaitForTheFirstLink() async throws {
        let (pubsub, network, _) = try Self.make(peers: [])
        let topic = Topic.named("early")
        let first = try await pubsub.publish([1], to: topic)
        let second = try await pubsub.publish([2], to: topic)
        #expect(first.queued && second.queued)
        #expect(first.transmissions == 0)
        #expect(await pubsub.pendingPublishes == 2)
        #expect(await pubsub.statistics.queued == 2)
        await network.setPeers([5])
        await pubsub.peerConnected()
        #expect(await pubsub.pendingPublishes == 0)
        let sent = await network.sent
        #expect(sent.count == 2)
        #expect(try sent.map { try TopicObject(bytes: $0.bytes).messageID } == [first.messageID, second.messageID])
        #expect(await pubsub.statistics.flushed == 2)
        #expect(await pubsub.statistics.transmissions == 2)
    }

    @Test func concurrentFlushesSendEachHeldPublishOnce() async throws {
        let (pubsub, network, _) = try Self.make(peers: [])
        let topic = Topic.named("twice")
        for i in 0..<5 { try await pubsub.publish([UInt8(i)], to: topic) }
        await network.setPeers([1, 2])
        await network.setSendDelay(.milliseconds(5))
        async let a: Void = pubsub.peerConnected()
        async let b: Void = pubsub.peerConnected()
        async let c = pubsub.publish([9], to: topic)
        _ = await (a, b)
        _ = try await c
        await pubsub.peerConnected()
        let sent = await network.sent
        #expect(sent.count == 6)
        #expect(Set(sent.map(\.bytes)).count == 6)
        #expect(await pubsub.pendingPublishes == 0)
        #expect(await pubsub.statistics.transmissions == 12)
    }

    @Test func theWaitingQueueIsBoundedAndSaysSo() async throws {
        let (pubsub, _, _) = try Self.make(peers: []) { $0.maxQueuedObjects = 2 }
        let topic = Topic.named("full")
        try await pubsub.publish([1], to: topic)
        try await pubsub.publish([2], to: topic)
        await #expect(throws: PubSubError(.queueFull, "")) { try await pubsub.publish([3], to: topic) }
        #expect(await pubsub.pendingPublishes == 2)
        let (small, _, _) = try Self.make(peers: []) { $0.maxQueuedBytes = 2000 }
        try await small.publish([1], to: topic)
        await #expect(throws: PubSubError(.queueFull, "")) { try await small.publish([2], to: topic) }
    }

    @Test func staleWaitingPublishesAreResealed() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [])
        let topic = Topic.named("late")
        let original = try await pubsub.publish([9], to: topic)
        clock.advance(6 * 60)
        await network.setPeers([1])
        await pubsub.peerConnected()
        let sent = try TopicObject(bytes: try #require(await network.sent.first?.bytes))
        #expect(sent.messageID != original.messageID)
        #expect(Int64(sent.timestamp) == clock.now / 60)
        #expect(try sent.open(with: topic, maxPayload: 10).payload == [9])
        #expect(await pubsub.statistics.resealed == 1)
    }

    @Test func oversizedPublishesGetAClearError() async throws {
        let (pubsub, _, _) = try Self.make()
        let topic = Topic.named("big")
        try await pubsub.publish([UInt8](repeating: 0, count: 65536), to: topic)
        await #expect(throws: PubSubError(.payloadTooLarge, "")) {
            try await pubsub.publish([UInt8](repeating: 0, count: 65537), to: topic)
        }
        let (tiny, _, _) = try Self.make { $0.maxPayloadBytes = 100 }
        await #expect(throws: PubSubError(.payloadTooLarge, "")) {
            try await tiny.publish([UInt8](repeating: 0, count: 101), to: topic)
        }
        #expect(throws: PubSubError(.invalidConfiguration, "")) {
            _ = try PubSub(
                network: RecordingNetwork(),
                configuration: {
                    var c = PubSubConfiguration()
                    c.maxAge = .seconds(30)
                    return c
                }())
        }
    }

    @Test func customTypesAreRegisteredPublishedAndDecoded() async throws {
        let (pubsub, network, _) = try Self.make()
        let topic = Topic.named("chat")
        let line = ChatLine(nick: "ada", text: "hi", sequence: 1)
        await #expect(throws: PubSubError(.unregisteredType, "")) { try await pubsub.publish(line, to: topic) }
        try await pubsub.register(ChatLine.self)
        try await pubsub.register(ChatLine.self)  // idempotent
        let collector = await Collector.start(await pubsub.subscribe(topic))
        try await pubsub.publish(line, to: topic)
        let delivery = try #require(await collector.waitFor(1).first)
        #expect(delivery.objectType == 0x1001)
        #expect(delivery.value as? ChatLine == line)
        #expect(try delivery.decode(as: ChatLine.self) == line)
        #expect(try TopicObject(bytes: try #require(await network.sent.first?.bytes)).objectType == 0x1001)

        struct Impostor: WireCodable {
            static let wireTypeID: UInt32 = 0x1001
            func serialize(into writer: inout ByteWriter) {}
            init() {}
            init(from reader: inout ByteReader) throws(WireError) {}
        }
        struct Reserved: WireCodable {
            static let wireTypeID: UInt32 = 7
            func serialize(into writer: inout ByteWriter) {}
            init(from reader: inout ByteReader) throws(WireError) {}
        }
        await #expect(throws: PubSubError(.typeAlreadyRegistered, "")) { try await pubsub.register(Impostor.self) }
        await #expect(throws: PubSubError(.unregisteredType, "")) { try await pubsub.publish(Impostor(), to: topic) }
        await #expect(throws: PubSubError(.reservedType, "")) { try await pubsub.register(Reserved.self) }
        // Raw bytes decoded as the wrong type fail clearly.
        try await pubsub.publish([1, 2], to: topic)
        let raw = try #require(await collector.waitFor(2).last)
        #expect(raw.value == nil)
        #expect(throws: PubSubError(.typeMismatch, "")) { try raw.decode(as: ChatLine.self) }
    }

    @Test func authorKeysFollowTheMode() async throws {
        let secret = SecureBytes(randomCount: 32)
        let (pubsub, network, _) = try Self.make { $0.authorSecret = secret }
        let (reader, _, _) = try Self.make()
        let topic = Topic.named("signed")
        let collector = await Collector.start(await reader.subscribe(topic))
        let keys = try AuthorKeys(secret: secret)
        try await pubsub.publish([1], to: topic, author: .perTopic)
        try await pubsub.publish([2], to: topic, author: .perNode)
        try await pubsub.publish([3], to: topic)
        for sent in await network.sent { await reader.handleIncoming(object: sent.bytes, from: 1) }
        let got = await collector.waitFor(3)
        #expect(got.map(\.payload) == [[1], [2], [3]])
        #expect(got[0].author == keys.key(for: .perTopic, topic: topic.id)?.publicKey)
        #expect(got[1].author == keys.key(for: .perNode, topic: topic.id)?.publicKey)
        #expect(got[2].author == nil)
        #expect(got[0].author != got[1].author)
    }

    @Test func subscribingByNameOrInvite() async throws {
        let (pubsub, _, _) = try Self.make()
        let team = Topic.random(name: "team")
        let byName = await Collector.start(await pubsub.subscribe(name: "lobby"))
        let byInvite = await Collector.start(try await pubsub.subscribe(invite: team.invite))
        await #expect(throws: PubSubError(.invalidInvite, "")) { try await pubsub.subscribe(invite: "nymbus:topic:x") }
        try await pubsub.publish([1], to: Topic.named("lobby"))
        try await pubsub.publish([2], to: team)
        #expect(await byName.waitFor(1).map(\.payload) == [[1]])
        #expect(await byInvite.waitFor(1).map(\.payload) == [[2]])
        #expect(Set(await pubsub.subscribedTopics) == [Topic.named("lobby"), team])
    }

    @Test func fullSubscriptionBuffersAreCounted() async throws {
        let (pubsub, _, _) = try Self.make { $0.subscriptionBuffer = 2 }
        let topic = Topic.named("slow")
        let subscription = await pubsub.subscribe(topic)
        for i in 0..<3 { try await pubsub.publish([UInt8(i)], to: topic) }
        let stats = await pubsub.statistics
        #expect(stats.deliveries == 2)
        #expect(stats.subscriptionOverflow == 1)
        var iterator = subscription.makeAsyncIterator()
        #expect(await iterator.next()?.payload == [0])
        #expect(await iterator.next()?.payload == [1])
        await pubsub.unsubscribe(subscription)
        #expect(await iterator.next() == nil)
        #expect(await pubsub.subscribedTopics.isEmpty)
    }
}
