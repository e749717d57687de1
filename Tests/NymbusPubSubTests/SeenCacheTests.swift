import NymbusCrypto
import Testing

@testable import NymbusPubSub

@Suite struct SeenCacheTests {
    static func id(_ n: Int) -> MessageID { MessageID(signedBytes: Array("\(n)".utf8)) }

    @Test func messageIDsKeepTheirBytes() throws {
        let digest = Blake2b.digest32([1, 2, 3])
        let id = try #require(MessageID(bytes: digest))
        #expect(id.bytes == digest)
        #expect(id == MessageID(signedBytes: [1, 2, 3]))
        #expect(id.description == Hex.encode(digest))
        #expect(MessageID(bytes: [1, 2]) == nil)
        #expect(MemoryLayout<MessageID>.size == 32)
    }

    @Test func remembersForTheWindowThenForgets() {
        var cache = SeenCache(capacity: 10, window: 1200)
        #expect(cache.insert(Self.id(1), now: 1000) == .inserted)
        #expect(cache.insert(Self.id(1), now: 1500) == .duplicate)
        #expect(cache.insert(Self.id(2), now: 1500) == .inserted)
        #expect(cache.insert(Self.id(1), now: 2199) == .duplicate)
        cache.expire(now: 2200)
        #expect(!cache.contains(Self.id(1)))
        #expect(cache.contains(Self.id(2)))
        #expect(cache.count == 1)
        #expect(cache.insert(Self.id(1), now: 2200) == .inserted)
        cache.expire(now: 2700)
        #expect(cache.count == 1)
        #expect(cache.contains(Self.id(1)))
    }

    @Test func neverEvictsALiveIdWhenFull() {
        var cache = SeenCache(capacity: 3, window: 100)
        for n in 0..<3 { #expect(cache.insert(Self.id(n), now: 0) == .inserted) }
        #expect(cache.insert(Self.id(9), now: 50) == .full)
        #expect(cache.contains(Self.id(0)))
        #expect(cache.insert(Self.id(9), now: 100) == .inserted)
        #expect(cache.count == 1)
    }

    @Test func staysBoundedOverManyWindows() {
        var cache = SeenCache(capacity: 5000, window: 60)
        var now: Int64 = 0
        for n in 0..<200_000 {
            if n % 100 == 0 { now += 1 }  // 100 ids per second: 6000 per window, above capacity
            _ = cache.insert(Self.id(n), now: now)
            #expect(cache.count <= 5000)
        }
        // The ring never outgrows the capacity.
        #expect(cache.approximateBytes <= 8192 * 32 + 1024 + 5000 * 40 + 4096)
    }

    @Test func memoryPerEntryIsAsStated() {
        let capacity = PubSubConfiguration().seenCapacity
        var cache = SeenCache(capacity: capacity, window: 1200)
        for n in 0..<capacity + 10 { _ = cache.insert(Self.id(n), now: 0) }
        #expect(cache.count == capacity)
        let perEntry = Double(cache.approximateBytes) / Double(capacity)
        // 131072 × 32 + 131072 / 8 + 98304 × 40 bytes.
        // (the allocator may round the ring's allocation up by a few entries)
        #expect(abs(cache.approximateBytes - (131_072 * 32 + 16_384 + 98_304 * 40)) < 8192)
        #expect(perEntry < 84, "\(perEntry) bytes per entry")
        print("seen cache: \(cache.approximateBytes) bytes for \(capacity) ids = \(perEntry) bytes/entry")
    }
}

@Suite struct ObjectRouterTests {
    static let topic = Topic.named("router")
    static let now: Int64 = 1_740_000_000

    static func object(minutesAgo: Int64 = 0, payload: [UInt8] = [1]) throws -> TopicObject {
        try TopicObject.seal(
            payload: payload, objectType: 0, topic: topic, timestamp: UInt32((now - minutesAgo * 60) / 60),
            author: nil)
    }

    static func reason(_ decision: ObjectRouter.Decision) -> (ObjectRouter.DropReason, Bool)? {
        if case .drop(let reason, let penalize, _) = decision { return (reason, penalize) }
        if case .duplicate = decision { return (.duplicate, false) }
        return nil
    }

    @Test func acceptsOnceThenCountsDuplicates() throws {
        var router = ObjectRouter(configuration: PubSubConfiguration())
        let bytes = try Self.object().bytes
        guard case .accept(let object, let id) = router.route(bytes, now: Self.now) else {
            Issue.record("a fresh valid object must be accepted")
            return
        }
        #expect(id == object.messageID)
        #expect(Self.reason(router.route(bytes, now: Self.now + 5))! == (.duplicate, false))
    }

    @Test func timeRulesRefuseReplaysAfterEviction() throws {
        var config = PubSubConfiguration()
        config.seenWindow = .seconds(20 * 60)
        config.maxAge = .seconds(15 * 60)
        config.maxFuture = .seconds(2 * 60)
        var router = ObjectRouter(configuration: config)
        // Made 2 minutes in the "future" (sender clock ahead): the worst case for replays.
        let object = try Self.object(minutesAgo: -2)
        let bytes = object.bytes
        guard case .accept = router.route(bytes, now: Self.now) else {
            Issue.record("object within maxFuture must be accepted")
            return
        }
        // Every minute for an hour, a replay is refused: first as a duplicate, then as too old.
        var reasons: Set<ObjectRouter.DropReason> = []
        for minute in 1...60 {
            let decision = router.route(bytes, now: Self.now + Int64(minute) * 60)
            let (reason, penalize) = try #require(Self.reason(decision), "replay accepted at minute \(minute)")
            #expect(!penalize)
            reasons.insert(reason)
        }
        #expect(reasons == [.duplicate, .tooOld])
        #expect(Self.reason(router.route(try Self.object(minutesAgo: 16).bytes, now: Self.now))! == (.tooOld, false))
        #expect(Self.reason(router.route(try Self.object(minutesAgo: -4).bytes, now: Self.now))! == (.future, false))
        if case .accept = router.route(try Self.object(minutesAgo: 14).bytes, now: Self.now) {
        } else {
            Issue.record("a 14-minute-old object is within maxAge")
        }
    }

    @Test func invalidObjectsArePenalisedHonestOnesAreNot() throws {
        var config = PubSubConfiguration()
        config.maxObjectBytes = 4096
        var router = ObjectRouter(configuration: config)
        let good = try Self.object().bytes
        var forged = good
        forged[80] ^= 0xff  // a ciphertext byte
        #expect(Self.reason(router.route(forged, now: Self.now))! == (.badSignature, true))
        #expect(Self.reason(router.route(Array(good.prefix(100)), now: Self.now))! == (.malformed, true))
        var version = good
        version[0] = 9
        #expect(Self.reason(router.route(version, now: Self.now))! == (.unsupportedVersion, false))
        // Over our own limit but within the protocol's: dropped, not penalised.
        let big = try Self.object(payload: [UInt8](repeating: 0, count: 5000)).bytes
        #expect(Self.reason(router.route(big, now: Self.now))! == (.oversized, false))
        // Over the protocol maximum: penalised.
        #expect(Self.reason(router.route([UInt8](repeating: 1, count: 98305), now: Self.now))! == (.oversized, true))
        // The forged copy did not poison the cache: the genuine object is still new.
        if case .accept = router.route(good, now: Self.now) {} else { Issue.record("genuine object refused") }
    }

    @Test func aFullCacheRefusesNewObjects() throws {
        var config = PubSubConfiguration()
        config.seenCapacity = 2
        var router = ObjectRouter(configuration: config)
        for _ in 0..<2 { _ = router.route(try Self.object().bytes, now: Self.now) }
        #expect(Self.reason(router.route(try Self.object().bytes, now: Self.now))! == (.cacheFull, false))
    }

    @Test func configurationRulesAreChecked() throws {
        try PubSubConfiguration().validate()
        var c = PubSubConfiguration()
        c.seenWindow = .seconds(10 * 60)  // < maxAge + maxFuture = 17 min
        #expect(throws: PubSubError(.invalidConfiguration, "")) { try c.validate() }
        c = PubSubConfiguration()
        c.maxPayloadBytes = 98304
        #expect(throws: PubSubError(.invalidConfiguration, "")) { try c.validate() }
        #expect(throws: PubSubError(.invalidConfiguration, "")) { try SizeBuckets(sizes: [4096, 1536]) }
        #expect(throws: PubSubError(.invalidConfiguration, "")) { try SizeBuckets(sizes: [100]) }
        #expect(try SizeBuckets(sizes: [512, 2048]).bucket(for: 600) == 2048)
    }
}

@Suite struct ThroughputTests {
    /// Prints objects per second through seal and through the relay checks (debug build; the
    /// Ed25519 verify in libsodium dominates and is optimised either way). Asserts correctness only.
    @Test func sealAndRouteRates() throws {
        let topic = Topic.named("rate")
        let now: Int64 = 1_740_000_000
        let count = 1000
        let start = ContinuousClock.now
        let objects = try (0..<count).map { i in
            try TopicObject.seal(
                payload: Array("message \(i)".utf8), objectType: 0, topic: topic, timestamp: UInt32(now / 60),
                author: nil
            ).bytes
        }
        let sealed = ContinuousClock.now
        var router = ObjectRouter(configuration: PubSubConfiguration())
        var accepted = 0
        for bytes in objects {
            if case .accept = router.route(bytes, now: now) { accepted += 1 }
        }
        let routed = ContinuousClock.now
        #expect(accepted == count)
        let sealRate = Double(count) / (sealed - start).seconds
        let routeRate = Double(count) / (routed - sealed).seconds
        print(
            "throughput: seal \(Int(sealRate)) objects/s, route (validate + verify + dedup) \(Int(routeRate)) objects/s"
        )
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
