import Foundation
import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusPubSub

/// The `batches` vectors of spec/vectors/pubsub.json (spec/pubsub.md §5.1).
struct BatchVectors: Codable {
    struct Vector: Codable {
        var comment: String
        var topic: String
        var objectType: UInt32
        var timestamp: UInt32
        var nonce: String
        var authorMode: String
        var authorPublicKey: String?
        var maxPayload: Int
        var valid: Bool
        var entries: [String]?
        var body: String
        var plaintext: String
        var object: String
        var messageID: String
    }
    var batches: [Vector]
}

/// Batch objects: the codec, the split planner, sealing and opening, and the `PubSub` paths.
@Suite struct BatchTests {
    static func vectors() throws -> [BatchVectors.Vector] {
        try JSONDecoder().decode(BatchVectors.self, from: Data(contentsOf: vectorsURL)).batches
    }

    static func topic(_ which: String) -> Topic { which == "public" ? Fixed.publicTopic : Fixed.privateTopic }

    // MARK: Vectors

    @Test func theVectorsAreWhatThisCodeSeals() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 8)
        #expect(vectors.filter(\.valid).count == 2)
        for v in vectors {
            let topic = Self.topic(v.topic)
            let author = Fixed.authorKeys.key(for: Fixed.mode(v.authorMode), topic: topic.id)
            let object: TopicObject
            if let entries = v.entries {
                #expect(BatchPayload.encode(entries.map(hex)) == hex(v.body), "\(v.comment)")
                object = try TopicObject.seal(
                    batch: entries.map(hex), topic: topic, timestamp: v.timestamp, author: author, nonce: hex(v.nonce))
            } else {
                object = try TopicObject.seal(
                    payload: hex(v.body), objectType: ObjectType.rawBytesBatch, topic: topic, timestamp: v.timestamp,
                    author: author, nonce: hex(v.nonce))
            }
            #expect(object.bytes == hex(v.object), "\(v.comment)")
            #expect(object.messageID.description == v.messageID, "\(v.comment)")
            #expect(v.objectType == ObjectType.rawBytesBatch)
            #expect(author.map { Hex.encode($0.publicKey.bytes) } == v.authorPublicKey)
            let padded = try XChaCha20Poly1305.open(
                object.ciphertext, key: topic.encryptionKey, nonce: object.nonce,
                associatedData: object.associatedData)
            #expect(padded == hex(v.plaintext), "\(v.comment)")
        }
    }

    @Test func validVectorsOpenIntoTheirEntriesAndInvalidOnesFail() throws {
        for v in try Self.vectors() {
            let object = try TopicObject(bytes: hex(v.object))
            #expect(object.objectType == 1)
            #expect(object.hasValidMembershipSignature)
            #expect(object.bytes.count == 1536)
            let topic = Self.topic(v.topic)
            if let entries = v.entries {
                let opened = try object.openEntries(with: topic, maxPayload: v.maxPayload)
                #expect(opened.entries == entries.map(hex), "\(v.comment)")
                #expect(opened.plaintext.payload == hex(v.body))
                #expect(opened.plaintext.author.map { Hex.encode($0.key.bytes) } == v.authorPublicKey)
                #expect(try object.open(with: topic, maxPayload: v.maxPayload).payload == hex(v.body))
                // An entry limit below the longest entry refuses the whole object.
                let longest = entries.map { hex($0).count }.max() ?? 0
                #expect(throws: PubSubError(.decryptionFailed, "")) {
                    try object.openEntries(with: topic, maxPayload: longest - 1)
                }
            } else {
                #expect(throws: PubSubError(.decryptionFailed, ""), "\(v.comment)") {
                    try object.openEntries(with: topic, maxPayload: v.maxPayload)
                }
                #expect(throws: PubSubError(.decryptionFailed, ""), "\(v.comment)") {
                    try object.open(with: topic, maxPayload: v.maxPayload)
                }
            }
        }
        // The over-limit vector is a fine batch for a receiver with a larger limit.
        let overLimit = try #require(try Self.vectors().last)
        #expect(overLimit.maxPayload == 16)
        let entries = try TopicObject(bytes: hex(overLimit.object)).openEntries(with: Fixed.publicTopic, maxPayload: 17)
        #expect(entries.entries == [Array(0..<17), Array("x".utf8)])
    }

    @Test func everyBadBatchIsRelayedCountedAndNotPenalised() async throws {
        // TestClock's default time is the vectors' timestamp (29 000 000 minutes).
        let (pubsub, network, _) = try PubSubActorTests.make { $0.maxPayloadBytes = 16 }
        let collector = await Collector.start(await pubsub.subscribe(Fixed.publicTopic))
        let bad = try Self.vectors().filter { !$0.valid }
        #expect(bad.count == 6)
        for v in bad { await pubsub.handleIncoming(object: hex(v.object), from: 1) }
        let stats = await pubsub.statistics
        #expect(stats.accepted == 6)
        #expect(stats.decryptFailed == 6)
        #expect(stats.badAuthorSignature == 0)
        #expect(stats.penalties == 0)
        #expect(stats.delivered == 0)
        #expect(stats.forwarded == 6)
        #expect(await network.penalties.isEmpty)
        #expect(await network.sent.count == 6)
        // Every delivery is handed to the subscription inside the awaited call: none was.
        #expect(stats.deliveries == 0)
        #expect(await collector.count == 0)
    }

    @Test func aValidBatchFromAPeerIsDeliveredEntryByEntry() async throws {
        let (pubsub, network, _) = try PubSubActorTests.make()
        let collector = await Collector.start(await pubsub.subscribe(Fixed.privateTopic))
        let v = try #require(try Self.vectors().first { $0.valid && $0.topic == "private" })
        await pubsub.handleIncoming(object: hex(v.object), from: 2)
        let got = await collector.waitFor(3)
        #expect(got.count == 3)
        #expect(got.map(\.payload) == (v.entries ?? []).map(hex))
        #expect(got.map(\.batchIndex) == [0, 1, 2])
        #expect(got.allSatisfy { $0.batchCount == 3 })
        #expect(got.allSatisfy { $0.messageID.description == v.messageID })
        #expect(got.allSatisfy { $0.objectType == ObjectType.rawBytes })
        #expect(got.allSatisfy { $0.author.map { Hex.encode($0.bytes) } == v.authorPublicKey })
        #expect(got.allSatisfy { !$0.isOwn && $0.timestamp == v.timestamp && $0.value == nil })
        let stats = await pubsub.statistics
        #expect(stats.delivered == 1)
        #expect(stats.deliveries == 3)
        #expect(await network.sent.count == 1)
    }

    // MARK: Codec

    @Test func theBatchCodecWritesExactBytesAndRefusesEveryBadShape() throws {
        let body = BatchPayload.encode([[0xaa], [], [1, 2]])
        #expect(body == [0, 3, 0, 0, 0, 1, 0xaa, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2])
        #expect(BatchPayload.encodedLength(entries: 3, entryBytes: 3) == body.count)
        #expect(try BatchPayload.decode(body, maxEntry: 2) == [[0xaa], [], [1, 2]])
        let bad: [[UInt8]] = [
            [],  // no count
            [0],  // half a count
            [0, 0],  // count 0
            [0, 1, 0, 0, 0, 0],  // count 1
            [0, 2, 0, 0, 0, 0],  // one entry of two
            [0, 2, 0, 0, 0, 0, 0, 0, 0],  // truncated length
            [0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 7],  // truncated bytes
            [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],  // trailing byte
            [0, 2, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0],  // entry over the limit of 2
            [0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0],  // 65 535 entries claimed, 2 present
            [0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],  // a 4 GiB entry
        ]
        for bytes in bad {
            #expect(throws: PubSubError(.decryptionFailed, ""), "\(bytes)") {
                try BatchPayload.decode(bytes, maxEntry: 2)
            }
        }
    }

    @Test func sealingABatchRoundTripsAndNeedsTwoEntries() throws {
        let topic = Topic.random(name: "rt")
        let author = Ed25519.SigningKey()
        let entries: [[UInt8]] = [Array("one".utf8), [], [UInt8](repeating: 9, count: 1000)]
        let object = try TopicObject.seal(
            batch: entries, topic: topic, timestamp: 29_000_000, author: author)
        #expect(object.objectType == 1)
        // 155 + 96 + 2 + 3·4 + 1003 = 1268 bytes: one packet.
        #expect(object.bytes.count == 1536)
        let decoded = try TopicObject(bytes: object.bytes)
        let opened = try decoded.openEntries(with: topic, maxPayload: 1000)
        #expect(opened.entries == entries)
        #expect(opened.plaintext.author?.key == author.publicKey)
        // A single object opens into itself.
        let single = try TopicObject.seal(
            payload: [5], objectType: 0, topic: topic, timestamp: 29_000_000, author: nil)
        #expect(try single.openEntries(with: topic, maxPayload: 1).entries == [[5]])
        for count in [0, 1, 65536] {
            #expect(throws: PubSubError(.invalidBatch, "")) {
                try TopicObject.seal(
                    batch: [[UInt8]](repeating: [], count: count), topic: topic, timestamp: 1, author: nil)
            }
        }
        // The largest count is allowed: 65 535 empty entries are 262 142 bytes, too many for a bucket.
        #expect(throws: PubSubError(.payloadTooLarge, "")) {
            try TopicObject.seal(
                batch: [[UInt8]](repeating: [], count: 65535), topic: topic, timestamp: 1, author: nil)
        }
    }

    // MARK: Planning

    /// The planner's O(n · buckets) shortcut against an exhaustive search over every split, on
    /// random payload sizes around the bucket edges: same wire bytes, same object count.
    @Test func plannerMatchesExhaustiveSearch() {
        let planner = BatchPlanner(buckets: .default, targetBytes: 16384, withAuthor: false)
        func cost(_ runs: [Range<Int>], _ lengths: [Int]) -> (bytes: Int, objects: Int)? {
            var bytes = 0
            for run in runs {
                if run.count == 1 {
                    let size = planner.singleSize(lengths[run.lowerBound])
                    bytes += planner.buckets.bucket(for: size) ?? size
                } else {
                    let size = planner.batchSize(count: run.count, entryBytes: lengths[run].reduce(0, +))
                    guard size <= planner.batchCapacity, let bucket = planner.buckets.bucket(for: size) else { return nil }
                    bytes += bucket
                }
            }
            return (bytes, runs.count)
        }
        func best(_ lengths: [Int]) -> (bytes: Int, objects: Int) {
            var result = (bytes: Int.max, objects: Int.max)
            for cuts in 0..<(1 << (lengths.count - 1)) {
                var runs: [Range<Int>] = []
                var begin = 0
                for index in 1..<lengths.count where cuts & (1 << (index - 1)) != 0 {
                    runs.append(begin..<index)
                    begin = index
                }
                runs.append(begin..<lengths.count)
                guard let c = cost(runs, lengths) else { continue }
                if c.bytes < result.bytes || (c.bytes == result.bytes && c.objects < result.objects) { result = c }
            }
            return result
        }
        var generator = SystemRandomNumberGenerator()
        let sizes = [0, 3, 100, 700, 1200, 1380, 1381, 1400, 2000, 3900, 4000, 8000, 16000, 20000]
        for _ in 0..<300 {
            let lengths = (0..<Int.random(in: 1...10, using: &generator)).map { _ in
                max(0, sizes.randomElement(using: &generator)! + Int.random(in: -8...8, using: &generator))
            }
            let plan = planner.plan(lengths)
            #expect(plan.flatMap { Array($0) } == Array(lengths.indices), "\(lengths)")
            let planned = cost(plan, lengths)
            let optimum = best(lengths)
            #expect(planned?.bytes == optimum.bytes && planned?.objects == optimum.objects, "\(lengths): \(plan)")
        }
    }

    static let planner = BatchPlanner(buckets: .default, targetBytes: 16384, withAuthor: false)

    @Test func aBatchExactlyAtTheTargetIsOneObjectOneByteOverIsTwo() throws {
        // 155 framing + 2 count + 2·4 lengths + 8000 + 8219 = 16 384.
        #expect(Self.planner.batchSize(count: 2, entryBytes: 16219) == 16384)
        #expect(Self.planner.plan([8000, 8219]) == [0..<2])
        #expect(Self.planner.plan([8000, 8220]) == [0..<1, 1..<2])
        // The target need not be a bucket: batches stay within the largest bucket under it.
        let between = BatchPlanner(buckets: .default, targetBytes: 16383, withAuthor: false)
        #expect(between.batchCapacity == 4096)
        #expect(between.plan([8000, 8219]) == [0..<1, 1..<2])
        // An author adds 96 bytes to every object.
        let signed = BatchPlanner(buckets: .default, targetBytes: 16384, withAuthor: true)
        #expect(signed.plan([8000, 8123]) == [0..<2])
        #expect(signed.plan([8000, 8124]) == [0..<1, 1..<2])
    }

    @Test func aPayloadTooBigToShareIsAloneAndOrderIsKept() throws {
        let small = BatchPlanner(buckets: .default, targetBytes: 4096, withAuthor: false)
        #expect(small.plan([3, 3, 5000, 3, 3]) == [0..<2, 2..<3, 3..<5])
        #expect(small.plan([5000]) == [0..<1])
        #expect(small.plan([]) == [])
        // Mixed sizes: the runs are consecutive and cover everything exactly once.
        let lengths = [10, 2000, 10, 10, 1300, 70000, 0, 0, 3000, 1]
        let runs = Self.planner.plan(lengths)
        #expect(runs.first?.lowerBound == 0)
        #expect(runs.last?.upperBound == lengths.count)
        #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(runs.contains(5..<6))
        #expect(runs == [0..<5, 5..<6, 6..<10])
    }

    @Test func theCheapestSplitOnTheWireWinsNotTheFullestObject() throws {
        // Two 1000-byte payloads: two 1536-byte objects (2 packets), not one 4096-byte batch (3).
        #expect(Self.planner.plan([1000, 1000]) == [0..<1, 1..<2])
        // Two tiny payloads share one 1536-byte object.
        #expect(Self.planner.plan([3, 3]) == [0..<2])
        // 1000 × 3 bytes: two 4096-byte objects (562 + 438 entries: 8192 bytes), not one 16 KiB one.
        #expect(Self.planner.plan([Int](repeating: 3, count: 1000)) == [0..<562, 562..<1000])
        // With 1536-byte batches: 197 entries fit (2 + 197·7 = 1381), so 6 objects.
        let onePacket = BatchPlanner(buckets: .default, targetBytes: 1536, withAuthor: false)
        #expect(
            onePacket.plan([Int](repeating: 3, count: 1000)) == [
                0..<197, 197..<394, 394..<591, 591..<788, 788..<985, 985..<1000,
            ])
        // 1000 × 100 bytes: six full 16 KiB objects (156 each), then 64 in five 1536-byte ones
        // (13 each) instead of a seventh 16 KiB one: 105 984 bytes instead of 114 688.
        let hundred = Self.planner.plan([Int](repeating: 100, count: 1000))
        #expect(hundred.count == 11)
        #expect(hundred.prefix(6).map(\.count) == [156, 156, 156, 156, 156, 156])
        #expect(hundred.dropFirst(6).map(\.count).reduce(0, +) == 64)
        let bytes = hundred.map {
            SizeBuckets.default.bucket(for: Self.planner.batchSize(count: $0.count, entryBytes: 100 * $0.count)) ?? 0
        }
        #expect(bytes.reduce(0, +) == 105_984)
    }

    // MARK: PubSub

    @Test func aBatchPublishPacksDeliversLocallyAndSendsOneObjectPerRun() async throws {
        let (pubsub, network, _) = try PubSubActorTests.make()
        let topic = Topic.named("burst")
        let collector = await Collector.start(await pubsub.subscribe(topic))
        let payloads = (0..<16).map { [UInt8(0x61 + $0), 0x62, 0x63] }
        let results = await pubsub.publish(batch: payloads, to: topic)
        let published = try results.map { try $0.get() }
        #expect(published.count == 16)
        #expect(Set(published.map(\.messageID)).count == 1)
        #expect(published.map(\.batchIndex) == Array(0..<16))
        #expect(published.allSatisfy { $0.batchCount == 16 && $0.transmissions == 3 && !$0.queued })
        #expect(published.allSatisfy { $0.localDeliveries == 1 })
        let sent = await network.sent
        #expect(sent.count == 1)
        let object = try TopicObject(bytes: try #require(sent.first?.bytes))
        #expect(object.objectType == ObjectType.rawBytesBatch)
        #expect(object.bytes.count == 1536)
        #expect(object.messageID == published[0].messageID)
        #expect(try object.openEntries(with: topic, maxPayload: 3).entries == payloads)
        let got = await collector.waitFor(16)
        #expect(got.map(\.payload) == payloads)
        #expect(got.map(\.batchIndex) == Array(0..<16))
        #expect(got.allSatisfy { $0.isOwn && $0.messageID == object.messageID && $0.objectType == 0 })
        let stats = await pubsub.statistics
        #expect(stats.published == 1)
        #expect(stats.publishedBatches == 1)
        #expect(stats.batchedPayloads == 16)
        #expect(stats.transmissions == 3)
        #expect(stats.delivered == 1)
        #expect(stats.deliveries == 16)
        // The echo is a duplicate.
        await pubsub.handleIncoming(object: object.bytes, from: 1)
        #expect(await pubsub.statistics.duplicates == 1)
    }

    @Test func aThousandTinyPayloadsMakeExactlyTwoObjects() async throws {
        let (pubsub, network, _) = try PubSubActorTests.make()
        let topic = Topic.named("flood")
        let payloads = (0..<1000).map { i in [UInt8(i >> 8), UInt8(i & 0xff), 0x21] }
        let results = try await pubsub.publish(batch: payloads, to: topic).map { try $0.get() }
        let sent = await network.sent
        #expect(sent.count == 2)
        #expect(sent.map(\.bytes.count) == [4096, 4096])
        #expect(Set(results.map(\.messageID)).count == 2)
        #expect(results.map(\.batchCount) == [Int](repeating: 562, count: 562) + [Int](repeating: 438, count: 438))
        var received: [[UInt8]] = []
        for s in sent { received += try TopicObject(bytes: s.bytes).openEntries(with: topic, maxPayload: 3).entries }
        #expect(received == payloads)
        #expect(await pubsub.statistics.published == 2)
    }

    @Test func aSinglePayloadIsAPlainObjectAsBefore() async throws {
        let (pubsub, network, _) = try PubSubActorTests.make()
        let topic = Topic.named("one")
        let collector = await Collector.start(await pubsub.subscribe(topic))
        let result = try #require(await pubsub.publish(batch: [Array("solo".utf8)], to: topic).first).get()
        #expect(result.batchIndex == 0 && result.batchCount == 1)
        let object = try TopicObject(bytes: try #require(await network.sent.first?.bytes))
        #expect(object.objectType == ObjectType.rawBytes)
        #expect(object.bytes.count == 1536)
        let plaintext = try XChaCha20Poly1305.open(
            object.ciphertext, key: topic.encryptionKey, nonce: object.nonce, associatedData: object.associatedData)
        #expect(plaintext == ObjectPlaintext(payload: Array("solo".utf8), author: nil).encoded(paddedLength: 1386))
        let delivery = try #require(await collector.waitFor(1).first)
        #expect(delivery.batchIndex == 0 && delivery.batchCount == 1)
        #expect(delivery.payload == Array("solo".utf8))
        #expect(await pubsub.statistics.publishedBatches == 0)
        // A single publish cannot claim the batch type.
        await #expect(throws: PubSubError(.reservedType, "")) {
            try await pubsub.publish([0, 2, 0, 0, 0, 0, 0, 0, 0, 0], to: topic, type: ObjectType.rawBytesBatch)
        }
        #expect(await pubsub.publish(batch: [], to: topic).isEmpty)
    }

    @Test func oversizedPayloadsFailAloneAndTheirNeighboursShareAnObject() async throws {
        let (pubsub, network, _) = try PubSubActorTests.make { $0.maxPayloadBytes = 100 }
        let topic = Topic.named("mixed")
        let collector = await Collector.start(await pubsub.subscribe(topic))
        let results = await pubsub.publish(batch: [[1], [UInt8](repeating: 0, count: 101), [2], [3]], to: topic)
        #expect(results.count == 4)
        #expect(throws: PubSubError(.payloadTooLarge, "")) { try results[1].get() }
        let ok = try [0, 2, 3].map { try results[$0].get() }
        #expect(ok.map(\.batchIndex) == [0, 1, 2])
        #expect(Set(ok.map(\.messageID)).count == 1)
        #expect(await network.sent.count == 1)
        #expect(await collector.waitFor(3).map(\.payload) == [[1], [2], [3]])
        // All too large: nothing sealed.
        let none = await pubsub.publish(batch: [[UInt8](repeating: 0, count: 101)], to: topic)
        #expect(throws: PubSubError(.payloadTooLarge, "")) { try none[0].get() }
        #expect(await network.sent.count == 1)
        #expect(await pubsub.statistics.published == 1)
    }

    @Test func heldBatchesWaitForAPeerAndAreResealedWhole() async throws {
        let (pubsub, network, clock) = try PubSubActorTests.make(peers: [])
        let topic = Topic.named("early batch")
        let results = try await pubsub.publish(batch: [[1], [2], [3]], to: topic, author: .perTopic)
            .map { try $0.get() }
        #expect(results.allSatisfy { $0.queued && $0.transmissions == 0 })
        #expect(await pubsub.pendingPublishes == 1)
        clock.advance(6 * 60)
        await network.setPeers([4])
        await pubsub.peerConnected()
        let sent = try TopicObject(bytes: try #require(await network.sent.first?.bytes))
        #expect(sent.objectType == ObjectType.rawBytesBatch)
        #expect(sent.messageID != results[0].messageID)
        #expect(Int64(sent.timestamp) == clock.now / 60)
        let opened = try sent.openEntries(with: topic, maxPayload: 1)
        #expect(opened.entries == [[1], [2], [3]])
        #expect(opened.plaintext.author != nil)
        #expect(await pubsub.statistics.resealed == 1)
        #expect(await pubsub.pendingPublishes == 0)
    }

    @Test func aFullQueueRefusesEveryPayloadOfTheObjectThatDidNotFit() async throws {
        let (pubsub, _, _) = try PubSubActorTests.make(peers: []) {
            $0.maxQueuedObjects = 1
            $0.batchTargetBytes = 1536
        }
        let topic = Topic.named("queue")
        // 200 × 3 bytes at 197 per 1536-byte object: two objects, only the first can be held.
        let results = await pubsub.publish(batch: [[UInt8]](repeating: [7, 7, 7], count: 200), to: topic)
        let held = try results.prefix(197).map { try $0.get() }
        #expect(held.allSatisfy { $0.queued && $0.batchCount == 197 })
        for result in results.suffix(3) {
            #expect(throws: PubSubError(.queueFull, "")) { try result.get() }
        }
        #expect(await pubsub.pendingPublishes == 1)
        #expect(await pubsub.statistics.publishedBatches == 1)
        #expect(await pubsub.statistics.batchedPayloads == 197)
    }

    @Test func theTargetMustHoldAtLeastTheSmallestBucket() throws {
        for target in [1535, 98305] {
            #expect(throws: PubSubError(.invalidConfiguration, "")) {
                _ = try PubSubActorTests.make { $0.batchTargetBytes = target }
            }
        }
        #expect(PubSubConfiguration().batchTargetBytes == 16384)
        _ = try PubSubActorTests.make { $0.batchTargetBytes = 1536 }
        _ = try PubSubActorTests.make { $0.batchTargetBytes = 98304 }
    }
}
