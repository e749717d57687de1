import NymClient
import NymbusCrypto
import NymbusTransport
import NymbusWire
import Testing

@testable import NymbusNode

@Suite struct TokenBucketTests {
    @Test func refillsAtRateUpToCapacity() {
        var bucket = TokenBucket(rate: 0.1, capacity: 1000, initial: 1, now: 0)
        let r1 = bucket.take(now: 0)
        #expect(r1)
        let r2 = bucket.take(now: 0)
        #expect(!r2)
        let r3 = bucket.take(now: 9.9)  // 0.99 tokens
        #expect(!r3)
        let r4 = bucket.take(now: 10.0)  // 1 token after 10 s at 0.1/s
        #expect(r4)
        bucket.refill(now: 1_000_000)
        #expect(bucket.tokens == 1000)
    }

    @Test func grantExceedsCapacityAndRefillDoesNotGrowIt() {
        var bucket = TokenBucket(rate: 0.1, capacity: 1000, initial: 1, now: 0)
        bucket.grant(1000)
        #expect(bucket.tokens == 1001)
        bucket.refill(now: 100)
        #expect(bucket.tokens == 1001)  // above capacity: no refill (Bitcoin Core's rule)
        let r5 = bucket.takeUpTo(1500, now: 100)
        #expect(r5 == 1001)
        let r6 = bucket.takeUpTo(5, now: 100)
        #expect(r6 == 0)
    }

    @Test func clockGoingBackwardsAddsNothing() {
        var bucket = TokenBucket(rate: 1, capacity: 10, initial: 0, now: 100)
        bucket.refill(now: 50)
        #expect(bucket.tokens == 0)
        bucket.refill(now: 101)
        #expect(bucket.tokens == 1)
    }
}

@Suite struct BoundedSetTests {
    @Test func forgetsOldestFirst() {
        var set = BoundedSet<Int>(capacity: 3)
        for i in 1...3 { set.insert(i) }
        set.insert(2)  // no-op
        set.insert(4)
        #expect(!set.contains(1))
        #expect(set.contains(2) && set.contains(3) && set.contains(4))
        #expect(set.count == 3)
        for i in 5...1000 { set.insert(i) }
        #expect(set.count == 3)
        #expect(set.contains(998) && set.contains(999) && set.contains(1000))
    }

    @Test func aMapReplacesValuesWithoutMakingThemYounger() {
        var map = BoundedMap<Int, String>(capacity: 2)
        map[1] = "a"
        map[2] = "b"
        map[1] = "A"  // replaced, still the oldest
        map[3] = "c"
        #expect(map[1] == nil && map[2] == "b" && map[3] == "c")
        #expect(map.count == 2)
    }
}

@Suite struct DiscouragementTests {
    @Test func expiresAfterDuration() {
        let a = Recipient.random()
        var list = DiscouragementList(duration: 100)
        list.discourage(.address(a), now: 10)
        #expect(list.isDiscouraged(.address(a), now: 109))
        #expect(!list.isDiscouraged(.address(a), now: 110))
        #expect(!list.isDiscouraged(.address(Recipient.random()), now: 50))
        list.prune(now: 200)
        #expect(list.count == 0)
    }

    @Test func boundedEvictsSoonestExpiry() throws {
        var list = DiscouragementList(duration: 100, capacity: 2)
        let t1 = try SenderTag(bytes: Array(repeating: 1, count: 16))
        let t2 = try SenderTag(bytes: Array(repeating: 2, count: 16))
        let t3 = try SenderTag(bytes: Array(repeating: 3, count: 16))
        list.discourage(.tag(t1), now: 0)
        list.discourage(.tag(t2), now: 5)
        list.discourage(.tag(t3), now: 6)
        #expect(list.count == 2)
        #expect(!list.isDiscouraged(.tag(t1), now: 7))
        #expect(list.isDiscouraged(.tag(t2), now: 7) && list.isDiscouraged(.tag(t3), now: 7))
    }
}

@Suite struct EnvelopeHeaderTests {
    @Test func peekMatchesTheEncoder() {
        let id = SessionID.random()
        let bytes = Envelope(sessionID: id, message: .ping(nonce: 7)).encode()
        let header = EnvelopeHeader.peek(bytes)
        #expect(header == EnvelopeHeader(command: Command.ping.rawValue, sessionID: id, payloadLength: 8))
        // A header with a garbage payload still names its session.
        let garbage = Array(bytes.prefix(22)) + [0, 0, 0, 3, 0xFF, 0xFF, 0xFF]
        #expect(EnvelopeHeader.peek(garbage)?.sessionID == id)
    }

    @Test func refusesNonEnvelopes() {
        #expect(EnvelopeHeader.peek([]) == nil)
        #expect(EnvelopeHeader.peek(Array("NYMB".utf8)) == nil)
        var bytes = Envelope(sessionID: .random(), message: .getaddr).encode()
        bytes[4] = 2  // another wire version
        #expect(EnvelopeHeader.peek(bytes) == nil)
        bytes[4] = 1
        bytes[0] = 0x4F
        #expect(EnvelopeHeader.peek(bytes) == nil)
    }
}
