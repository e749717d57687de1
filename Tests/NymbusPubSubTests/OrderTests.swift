import Foundation
import NymbusCrypto
import NymbusWire
import NymbusTestSupport
import Testing

@testable import NymbusPubSub

/// Per-publisher order in the topic layer (spec/broker.md "Order", spec/pubsub.md §5): the
/// plaintext's order fields against the Python vectors, and a receiver putting one publisher's
/// objects back in order, skipping a lost one after the hold.
@Suite struct OrderTests {
    struct Run: Codable {
        var publisherTag: String
        var number: UInt32
        var count: UInt16
    }

    struct OrderedVector: Codable {
        var comment: String
        var topic: String
        var objectType: UInt32
        var authorMode: String
        var runs: [Run]
        var payload: String
        var entries: [String]?
        var plaintext: String
        var object: String
        var messageID: String
    }

    struct Vectors: Codable {
        var ordered: [OrderedVector]
    }

    static func vectors() throws -> [OrderedVector] {
        try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: vectorsURL)).ordered
    }

    static func hex(_ text: String) -> [UInt8] { (try? Hex.decode(text)) ?? [] }

    @Test func orderedObjectsMatchTheVectors() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 4)
        for vector in vectors {
            let topic = vector.topic == "public" ? Fixed.publicTopic : Fixed.privateTopic
            let author = Fixed.authorKeys.key(for: Fixed.mode(vector.authorMode), topic: topic.id)
            let order = vector.runs.map {
                PublisherRun(tag: UInt64($0.publisherTag, radix: 16)!, number: $0.number, count: $0.count)
            }
            let object = try TopicObject.seal(
                payload: Self.hex(vector.payload), objectType: vector.objectType, topic: topic,
                timestamp: Fixed.timestamp, author: author, nonce: Fixed.nonce, order: order)
            #expect(Hex.encode(object.bytes) == vector.object, "\(vector.comment)")
            #expect(object.messageID.description == vector.messageID, "\(vector.comment)")
            let plaintext = try XChaCha20Poly1305.open(
                object.ciphertext, key: topic.encryptionKey, nonce: object.nonce, associatedData: object.associatedData)
            #expect(Hex.encode(plaintext) == vector.plaintext, "\(vector.comment)")
            // And back: the vector's object opens to the same order and entries.
            let parsed = try TopicObject(bytes: Self.hex(vector.object), maxBytes: TopicObject.protocolMaxBytes)
            let (opened, entries) = try parsed.openEntries(with: topic, maxPayload: 65_536)
            #expect(opened.order == order, "\(vector.comment)")
            #expect(opened.author?.key == author?.publicKey, "\(vector.comment)")
            #expect(entries == (vector.entries ?? [vector.payload]).map(Self.hex), "\(vector.comment)")
        }
    }

    /// The author signature covers the runs: the same payload signed at another place in the
    /// order does not verify.
    @Test func theAuthorSignatureBindsThePlaceInTheOrder() throws {
        let topic = Fixed.privateTopic
        let author = try #require(Fixed.authorKeys.key(for: .perTopic, topic: topic.id))
        let signedAt5 = try TopicObject.seal(
            payload: Array("x".utf8), objectType: 0, topic: topic, timestamp: Fixed.timestamp, author: author, nonce: Fixed.nonce, order: [PublisherRun(tag: 9, number: 5, count: 1)])
        var plaintext = try XChaCha20Poly1305.open(
            signedAt5.ciphertext, key: topic.encryptionKey, nonce: signedAt5.nonce,
            associatedData: signedAt5.associatedData)
        // A member moves it to number 6 and seals it again under the same nonce.
        #expect(Array(plaintext[1..<16]) == [1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0, 1])
        plaintext[13] = 6
        var moved = signedAt5
        moved.ciphertext = try XChaCha20Poly1305.seal(
            plaintext, key: topic.encryptionKey, nonce: moved.nonce, associatedData: moved.associatedData)
        moved.signature = topic.membershipKey.sign(moved.signedBytes)
        #expect(throws: PubSubError(.badAuthorSignature, "")) { try moved.openEntries(with: topic, maxPayload: 100) }
    }

    @Test func orderFieldsAreLengthChecked() throws {
        let good = ObjectPlaintext(payload: [1, 2], author: nil, order: [PublisherRun(tag: 1, number: 2, count: 1)])
        let bytes = good.encoded(paddedLength: 32)
        #expect(bytes.prefix(23) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 0, 2, 1, 2, 0])
        #expect(try ObjectPlaintext(decoding: bytes, maxPayload: 10) == good)
        #expect(good.unpaddedLength == 22)
        // Flag bit 1 with the runs cut short: an error, never a crash.
        for length in 1..<16 {
            #expect(throws: PubSubError.self) { try ObjectPlaintext(decoding: Array(bytes.prefix(length)), maxPayload: 10) }
        }
        // No run, a run of no entry, or more runs than bytes: refused.
        var noRun = bytes
        noRun[1] = 0
        #expect(throws: PubSubError.self) { try ObjectPlaintext(decoding: noRun, maxPayload: 10) }
        var emptyRun = bytes
        emptyRun[15] = 0
        #expect(throws: PubSubError.self) { try ObjectPlaintext(decoding: emptyRun, maxPayload: 10) }
        var tooMany = bytes
        tooMany[1] = 200
        #expect(throws: PubSubError.self) { try ObjectPlaintext(decoding: tooMany, maxPayload: 10) }
        // Runs that do not cover the payloads exactly: the object does not open.
        let topic = Topic.named("runs")
        let short = try TopicObject.seal(
            batch: [[1], [2], [3]], topic: topic, timestamp: Fixed.timestamp, author: nil,
            order: [PublisherRun(tag: 1, number: 0, count: 2)])
        #expect(throws: PubSubError(.decryptionFailed, "")) { try short.openEntries(with: topic, maxPayload: 10) }
        // An object without bit 1 decodes as before, with no order.
        let plain = ObjectPlaintext(payload: [7], author: nil)
        #expect(try ObjectPlaintext(decoding: plain.encoded(paddedLength: 16), maxPayload: 10).order.isEmpty)
    }

    /// One publisher's 40 objects reach a member in a seeded random order with one of them
    /// lost: the subscription gets the other 39 in publish order (the ones behind the loss after
    /// the hold), the gap is counted, and the lost one turning up late is still delivered.
    @Test func aReceiverRestoresOnePublishersOrderAndSkipsALoss() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = PublisherOrderTests.Mix(seed: seed)
        let clock = TestClock()
        var configuration = PubSubConfiguration()
        configuration.heartbeatInterval = nil
        configuration.orderHold = .milliseconds(300)
        let network = RecordingNetwork(peers: [1])
        let publisher = try PubSub(network: network, configuration: configuration, clock: clock.function)
        let receiver = try PubSub(network: RecordingNetwork(), configuration: configuration, clock: clock.function)
        let topic = Topic.named("order")
        let collector = await Collector.start(await receiver.subscribe(topic))
        let count = 40
        for index in 0..<count {
            let results = await publisher.publish(batch: [Array("m\(index)".utf8)], to: topic, publisher: 7)
            #expect(results.count == 1 && (try? results[0].get())?.transmissions == 1, "seed \(seed)")
        }
        let objects = await network.sent.map(\.bytes)
        #expect(objects.count == count)
        // Shuffle (seeded), leave one out; number 0 first so the key starts at once.
        let lost = 10
        var rest = Array(1..<count).filter { $0 != lost }
        for index in stride(from: rest.count - 1, to: 0, by: -1) {
            rest.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        for index in [0] + rest { await receiver.handleIncoming(object: objects[index], from: 2) }
        let expected = (0..<count).filter { $0 != lost }.map { Array("m\($0)".utf8) }
        let got = await collector.waitFor(expected.count)
        #expect(got.map(\.payload) == expected, "seed \(seed)")
        var stats = await receiver.statistics
        #expect(stats.order.gapsSkipped == 1 && stats.order.messagesSkipped == 1, "seed \(seed)")
        #expect(stats.orderHeld == 0 && stats.order.late == 0 && stats.order.overflows == 0)
        // The lost one arrives after all (repair): delivered, out of order, counted.
        await receiver.handleIncoming(object: objects[lost], from: 2)
        let all = await collector.waitFor(count)
        #expect(all.last?.payload == Array("m\(lost)".utf8))
        stats = await receiver.statistics
        #expect(stats.order.late == 1)
        #expect(stats.deliveries == count)
    }

    /// A receiver whose node is behind on what reached it (the message it hands over arrived a
    /// while ago, and what came after waits in the node's queue): a gap past the hold is not
    /// skipped while its predecessor may be waiting there; the extension is counted, and the
    /// predecessor, once handled, comes in order. Caught up, the next gap is skipped after the hold.
    @Test func aGapWaitsWhileTheNodeIsBehindOnWhatReachedIt() async throws {
        let clock = TestClock()
        var configuration = PubSubConfiguration()
        configuration.heartbeatInterval = nil
        configuration.orderHold = .milliseconds(200)
        let network = RecordingNetwork(peers: [1])
        let publisher = try PubSub(network: network, configuration: configuration, clock: clock.function)
        let behind = BehindNetwork()
        let receiver = try PubSub(network: behind, configuration: configuration, clock: clock.function)
        let topic = Topic.named("behind")
        let collector = await Collector.start(await receiver.subscribe(topic))
        for index in 0..<5 { _ = await publisher.publish(batch: [Array("m\(index)".utf8)], to: topic, publisher: 7) }
        let objects = await network.sent.map(\.bytes)
        #expect(objects.count == 5)
        let text = { (deliveries: [Delivery]) in deliveries.map { String(decoding: $0.payload, as: UTF8.self) } }
        await receiver.handleIncoming(object: objects[0], from: 2)
        // From here the node falls behind: the oldest message it has not handled arrived now.
        await behind.setBehindSince(.now)
        await receiver.handleIncoming(object: objects[2], from: 2)
        #expect(await receiver.statistics.orderHeld == 1)
        let extended = await eventually { await receiver.statistics.order.holdsExtended == 1 }
        #expect(extended)
        #expect(await receiver.statistics.order.gapsSkipped == 0)
        #expect(await receiver.statistics.orderHeld == 1)
        // The predecessor was waiting in the node's queue: in order, nothing skipped or late.
        await receiver.handleIncoming(object: objects[1], from: 2)
        #expect(text(await collector.waitFor(3)) == ["m0", "m1", "m2"])
        // Caught up: a gap is skipped after the hold, as before.
        await behind.setBehindSince(nil)
        await receiver.handleIncoming(object: objects[4], from: 2)
        #expect(text(await collector.waitFor(4)) == ["m0", "m1", "m2", "m4"])
        let stats = await receiver.statistics
        #expect(stats.order.gapsSkipped == 1 && stats.order.messagesSkipped == 1 && stats.order.late == 0)
        #expect(stats.order.holdsExtended == 1 && stats.orderHeld == 0)
    }

    /// Two publishers (two broker connections) on one topic are ordered separately: a gap in
    /// one holds nothing of the other's.
    @Test func publishersAreOrderedIndependently() async throws {
        let clock = TestClock()
        var configuration = PubSubConfiguration()
        configuration.heartbeatInterval = nil
        configuration.orderHold = .seconds(30)
        let network = RecordingNetwork(peers: [1])
        let publisher = try PubSub(network: network, configuration: configuration, clock: clock.function)
        let receiver = try PubSub(network: RecordingNetwork(), configuration: configuration, clock: clock.function)
        let topic = Topic.named("two")
        let collector = await Collector.start(await receiver.subscribe(topic))
        for index in 0..<3 {
            _ = await publisher.publish(batch: [Array("a\(index)".utf8)], to: topic, publisher: 1)
            _ = await publisher.publish(batch: [Array("b\(index)".utf8)], to: topic, publisher: 2)
        }
        let objects = await network.sent.map(\.bytes)  // a0 b0 a1 b1 a2 b2
        for index in [0, 1, 4, 3, 5] { await receiver.handleIncoming(object: objects[index], from: 2) }
        // a1 (object 2) is missing: a2 waits; b's all go, in order.
        let got = await collector.waitFor(4)
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == ["a0", "b0", "b1", "b2"])
        #expect(await receiver.statistics.orderHeld == 1)
        await receiver.handleIncoming(object: objects[2], from: 2)
        let all = await collector.waitFor(6)
        #expect(all.map { String(decoding: $0.payload, as: UTF8.self) } == ["a0", "b0", "b1", "b2", "a1", "a2"])
        #expect(await receiver.statistics.orderHeld == 0)
    }

    /// Several publishers' messages share one batch object, each publisher a run with its own
    /// tag and numbers; the receiver orders each publisher on its own.
    @Test func onePacksSeveralPublishersRunsIntoOneObject() async throws {
        let clock = TestClock()
        var configuration = PubSubConfiguration()
        configuration.heartbeatInterval = nil
        let network = RecordingNetwork(peers: [1])
        let publisher = try PubSub(network: network, configuration: configuration, clock: clock.function)
        let receiver = try PubSub(network: RecordingNetwork(), configuration: configuration, clock: clock.function)
        let topic = Topic.named("shared")
        let collector = await Collector.start(await receiver.subscribe(topic))
        let payloads = ["a0", "a1", "b0", "a2", "b1"].map { Array($0.utf8) }
        _ = await publisher.publish(batch: payloads, to: topic, publishers: [1, 1, 2, 1, 2])
        _ = await publisher.publish(batch: [Array("b2".utf8), Array("a3".utf8)], to: topic, publishers: [2, 1])
        let objects = await network.sent.map(\.bytes)
        #expect(objects.count == 2)
        let first = try TopicObject(bytes: objects[0], maxBytes: TopicObject.protocolMaxBytes)
        let (plaintext, _) = try first.openEntries(with: topic, maxPayload: 100)
        #expect(plaintext.order.map(\.count) == [2, 1, 1, 1])
        #expect(plaintext.order.map(\.number) == [0, 0, 2, 1])
        #expect(plaintext.order[0].tag == plaintext.order[2].tag && plaintext.order[1].tag == plaintext.order[3].tag)
        #expect(plaintext.order[0].tag != plaintext.order[1].tag)
        // The second object first: both runs wait for their predecessors, then everything in order.
        await receiver.handleIncoming(object: objects[1], from: 2)
        #expect(await receiver.statistics.orderHeld == 2)
        await receiver.handleIncoming(object: objects[0], from: 2)
        let got = await collector.waitFor(7).map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(got.filter { $0.hasPrefix("a") } == ["a0", "a1", "a2", "a3"])
        #expect(got.filter { $0.hasPrefix("b") } == ["b0", "b1", "b2"])
        #expect(await receiver.statistics.orderHeld == 0)
    }

    /// Publishes held while no peer is linked keep their place in their publisher's order
    /// through a restart (`held-publishes.json` keeps the runs) and when they are sealed again
    /// because they waited longer than a third of `maxAge`.
    @Test func heldPublishesSealedAgainAfterARestartKeepTheirRuns() async throws {
        let directory = temporaryDirectory("held-order")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let clock = TestClock()
        let topic = Topic.named("held-order")
        let before = try PubSub(network: RecordingNetwork(), clock: clock.function)
        #expect(try await before.keepHeldPublishes(in: directory) == 0)
        let first = await before.publish(batch: [[1], [2], [3]], to: topic, publisher: 7)
        let second = await before.publish(batch: [[4]], to: topic, publisher: 7)
        #expect((first + second).allSatisfy { (try? $0.get().queued) == true })
        let heldIDs = (first + second).compactMap { try? $0.get().messageID }
        #expect(Set(heldIDs).count == 2)

        // The restart: a new topic layer takes the held publishes back; they waited 6 minutes.
        clock.advance(6 * 60)
        let network = RecordingNetwork()
        let after = try PubSub(network: network, clock: clock.function)
        #expect(try await after.keepHeldPublishes(in: directory) == 2)
        await network.setPeers([1])
        await after.peerConnected()
        let sent = await network.sent.map(\.bytes)
        try #require(sent.count == 2)
        var runs: [[PublisherRun]] = []
        var entries: [[[UInt8]]] = []
        for bytes in sent {
            let object = try TopicObject(bytes: bytes, maxBytes: TopicObject.protocolMaxBytes)
            #expect(!heldIDs.contains(object.messageID))  // sealed again: a new id
            #expect(object.timestampSeconds / 60 == clock.now / 60)
            let (plaintext, payloads) = try object.openEntries(with: topic, maxPayload: 65_536)
            runs.append(plaintext.order)
            entries.append(payloads)
        }
        #expect(entries == [[[1], [2], [3]], [[4]]])
        let tag = try #require(runs.first?.first?.tag)
        #expect(runs == [[PublisherRun(tag: tag, number: 0, count: 3)], [PublisherRun(tag: tag, number: 3, count: 1)]])
        #expect(await after.statistics.resealed == 2)
    }

    /// The runs in the held-publish file are checked: whole 14-byte runs, at most 255.
    @Test func heldPublishRunsAreChecked() throws {
        let runs = [PublisherRun(tag: 0x0102_0304_0506_0708, number: 9, count: 2)]
        let text = try #require(HeldPublishFile.encode(runs))
        #expect(text == "0102030405060708000000090002")
        #expect(try HeldPublishFile.decodeRuns(text) == runs)
        #expect(HeldPublishFile.encode([]) == nil)
        for bad in ["", "01", String(text.dropLast(2)), "zz" + text.dropFirst(2), String(repeating: text, count: 256)] {
            #expect(throws: PubSubError.self) { try HeldPublishFile.decodeRuns(bad) }
        }
    }
}

/// A receiving node's network that is behind on what reached it since a given instant (the
/// message handed over now arrived then; `ObjectNetwork.inboundBacklogAge`). It sends nothing.
private actor BehindNetwork: ObjectNetwork {
    typealias Peer = Int
    private var since: ContinuousClock.Instant?

    func setBehindSince(_ instant: ContinuousClock.Instant?) { since = instant }

    func inboundBacklogAge() async -> Duration? { since.map { .now - $0 } }
    func send(_ message: TopicMessage, to peers: [Int]) async -> [Int] { [] }
    func connectedPeers() async -> [Int] { [] }
    func setMessageHandler(_ handler: @escaping @Sendable (TopicMessage, Int) async -> Void) async {}
    func penalizeInvalidObject(from peer: Int, reason: String) async {}
}
