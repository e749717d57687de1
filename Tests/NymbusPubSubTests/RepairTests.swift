import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusPubSub

/// Gossip repair of ONE node against the recording stand-in, heartbeats driven by hand and the
/// wall clock a `TestClock`: every message the node sends to one peer is checked exactly.
/// Repair across nodes is tested over the local mixnet (MixnetRepairTests).
@Suite struct RepairTests {
    static let topic = Topic.named("repair")

    static func make(
        peers: Set<Int> = [1, 2, 3], configure: (inout PubSubConfiguration) -> Void = { _ in }
    ) throws -> (PubSub<RecordingNetwork>, RecordingNetwork, TestClock) {
        var config = PubSubConfiguration()
        config.heartbeatInterval = nil  // heartbeats only when the test calls them
        config.dissemination = .flood  // the repair rules alone; DisseminationTests cover the tree
        configure(&config)
        let clock = TestClock()
        let network = RecordingNetwork(peers: peers)
        return (try PubSub(network: network, configuration: config, clock: clock.function), network, clock)
    }

    /// A valid object from afar (hop limit 7) and its id.
    static func object(_ n: Int, clock: TestClock) throws -> (bytes: [UInt8], id: MessageID) {
        let object = try TopicObject.seal(
            payload: Array("object \(n)".utf8), objectType: 0, topic: topic, timestamp: UInt32(clock.now / 60),
            author: nil)
        return (object.bytes, object.messageID)
    }

    /// What a node caches and serves for an object that arrived with hop limit 7.
    /// What a node serves and relays: the bytes it accepted, unchanged.
    static func served(_ bytes: [UInt8]) -> [UInt8] { bytes }

    /// A random id nobody has.
    static func unknownID() -> MessageID { MessageID(bytes: SecureRandom.bytes(32))! }

    /// The direct messages sent since the last call, as (peer, message), then forgets them.
    static func take(_ network: RecordingNetwork) async -> [(Int, TopicMessage)] {
        let out = await network.direct.map { ($0.peer, $0.message) }
        await network.clearDirect()
        return out
    }

    static func same(_ a: [(Int, TopicMessage)], _ b: [(Int, TopicMessage)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    @Test func invSkipsWhatEachPeerHasAndTheNewestWindow() async throws {
        let (pubsub, network, clock) = try Self.make()
        let a = try Self.object(1, clock: clock)
        let b = try Self.object(2, clock: clock)
        await pubsub.handleIncoming(object: a.bytes, from: 1)
        await pubsub.handleIncoming(object: b.bytes, from: 2)
        let own = try await pubsub.publish(Array("mine".utf8), to: Self.topic).messageID
        // Peer 3 says it has `a`: it gets no announcement of it.
        await pubsub.handle(.inv([a.id]), from: 3)
        #expect(await Self.take(network).isEmpty, "an inv of what we have asks for nothing")

        // Heartbeat 1 closes the window the three arrived in: too new to announce.
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty)
        // Heartbeat 2: one heartbeat old now. Each peer hears of what it is not known to have.
        // Heartbeat 3: still inside the gossip window, and no peer showed it has them: announced
        // again (an inv can be lost too). Heartbeat 4: out of the window, nothing.
        let announced: [(Int, TopicMessage)] = [(1, .inv([b.id, own])), (2, .inv([a.id, own])), (3, .inv([b.id, own]))]
        for _ in 2...3 {
            clock.advance(1)
            await pubsub.heartbeat()
            #expect(Self.same(await Self.take(network), announced))
        }

        // A later object, then a duplicate of it from peer 3: only peer 2 still needs to hear of it.
        let c = try Self.object(3, clock: clock)
        await pubsub.handleIncoming(object: c.bytes, from: 1)
        await pubsub.handleIncoming(object: Self.served(c.bytes), from: 3)
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty)
        await pubsub.heartbeat()
        #expect(Self.same(await Self.take(network), [(2, .inv([c.id]))]))
        // Peer 2 asks for it: now it is known to have it, and the next heartbeat says nothing.
        _ = await pubsub.handle(.getdata([c.id]), from: 2)
        _ = await Self.take(network)
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty)
        let stats = await pubsub.statistics
        #expect(stats.invSent == 7 && stats.invIdsSent == 13 && stats.invReceived == 1)
        #expect(stats.getdataSent == 0 && stats.getdataServed == 1 && stats.repairedObjects == 0)
    }

    @Test func noTrafficNoGossip() async throws {
        let (pubsub, network, clock) = try Self.make()
        for _ in 0..<10 {
            await pubsub.heartbeat()
            clock.advance(1)
        }
        #expect(await network.direct.isEmpty)
        #expect(await pubsub.statistics.invSent == 0)
    }

    @Test func getdataIsAnsweredFromTheCacheOnly() async throws {
        let (pubsub, network, clock) = try Self.make()
        let a = try Self.object(1, clock: clock)
        await pubsub.handleIncoming(object: a.bytes, from: 1)
        // Not announced yet, so not served yet (nobody can probe what just arrived).
        await pubsub.handle(.getdata([a.id]), from: 2)
        #expect(await Self.take(network).isEmpty)
        await pubsub.heartbeat()
        await pubsub.heartbeat()
        _ = await Self.take(network)
        // `a` once (asked twice), an unknown id: nothing.
        await pubsub.handle(.getdata([a.id, Self.unknownID(), a.id]), from: 2)
        #expect(Self.same(await Self.take(network), [(2, .object(Self.served(a.bytes)))]))
        #expect(await pubsub.statistics.getdataServed == 1)
        // Two minutes later the cache has let it go.
        clock.advance(120)
        await pubsub.heartbeat()
        _ = await Self.take(network)
        await pubsub.handle(.getdata([a.id]), from: 3)
        #expect(await Self.take(network).isEmpty)
        #expect(await pubsub.messageCacheUsage.count == 0)
    }

    @Test func eachIDIsRequestedOnceUntilTheRequestExpires() async throws {
        let (pubsub, network, clock) = try Self.make()
        let x = try Self.object(1, clock: clock)
        await pubsub.handle(.inv([x.id]), from: 1)
        #expect(Self.same(await Self.take(network), [(1, .getdata([x.id]))]))
        await pubsub.handle(.inv([x.id]), from: 2)
        await pubsub.handle(.inv([x.id]), from: 1)
        #expect(await Self.take(network).isEmpty, "already requested")
        #expect(await pubsub.repairRequests == (1, 1))
        clock.advance(9)
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty, "the request has not expired")
        clock.advance(1)
        await pubsub.heartbeat()
        #expect(Self.same(await Self.take(network), [(2, .getdata([x.id]))]), "expired: ask the next announcer")
        // Peer 2 answers: new, so delivered, flooded to the others, and counted as repaired.
        await pubsub.handle(.object(x.bytes), from: 2)
        #expect(await network.sent == [RecordingNetwork.Sent(bytes: Self.served(x.bytes), except: 2)])
        var stats = await pubsub.statistics
        #expect(stats.accepted == 1 && stats.repairedObjects == 1 && stats.getdataSent == 2 && stats.getdataIdsSent == 2)
        #expect(await pubsub.repairRequests == (0, 0))
        // Peer 1's late answer is a duplicate; a further inv asks for nothing.
        await pubsub.handle(.object(x.bytes), from: 1)
        await pubsub.handle(.inv([x.id]), from: 3)
        #expect(await Self.take(network).isEmpty)
        stats = await pubsub.statistics
        #expect(stats.duplicates == 1 && stats.repairedObjects == 1)
        // A sole announcer is asked up to 5 times (the mixnet may lose a request or its answer),
        // then the id is given up.
        let y = Self.unknownID()
        await pubsub.handle(.inv([y]), from: 3)
        #expect(Self.same(await Self.take(network), [(3, .getdata([y]))]))
        for _ in 0..<4 {
            clock.advance(10)
            await pubsub.heartbeat()
            #expect(Self.same(await Self.take(network), [(3, .getdata([y]))]))
        }
        clock.advance(10)
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty)
        #expect(await pubsub.repairRequests == (0, 0))
    }

    @Test func aClosedLinkFreesItsRequestsAtOnce() async throws {
        let (pubsub, network, _) = try Self.make()
        let x = Self.unknownID()
        await pubsub.handle(.inv([x]), from: 1)
        await pubsub.handle(.inv([x]), from: 2)
        _ = await Self.take(network)
        await pubsub.peerDisconnected(1)
        await network.setPeers([2, 3])
        await pubsub.heartbeat()
        #expect(Self.same(await Self.take(network), [(2, .getdata([x]))]))
        #expect(await pubsub.repairRequests == (1, 1))
    }

    @Test func requestsAreBoundedPerPeerAndInTotal() async throws {
        let (pubsub, network, _) = try Self.make { config in
            config.maxRequestsPerPeer = 200
            config.maxRequests = 600
        }
        let first = (0..<500).map { _ in Self.unknownID() }
        let second = (0..<500).map { _ in Self.unknownID() }
        await pubsub.handle(.inv(first), from: 1)
        #expect(Self.same(await Self.take(network), [(1, .getdata(Array(first.prefix(200))))]))
        // Peer 1 is at its 200; peer 2's ids fill the 600 (100 more), asked from peer 2 at once.
        await pubsub.handle(.inv(second), from: 2)
        #expect(Self.same(await Self.take(network), [(2, .getdata(Array(second.prefix(100))))]))
        #expect(await pubsub.repairRequests == (600, 300))
        // Beyond the cap: ignored, nothing sent, nothing remembered.
        await pubsub.handle(.inv([Self.unknownID()]), from: 3)
        #expect(await Self.take(network).isEmpty)
        #expect(await pubsub.repairRequests == (600, 300))
        // The 300 waiting for peer 1 stay waiting while its slots are full.
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty)
    }

    @Test func fiveHundredAndOneIDsTravelInTwoInvs() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1])
        var ids: [MessageID] = []
        for n in 0..<501 {
            let o = try Self.object(n, clock: clock)
            await pubsub.handleIncoming(object: o.bytes, from: 1)
            ids.append(o.id)
        }
        await pubsub.heartbeat()
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty, "peer 1 sent them all")
        // A new link gets a catch-up of the whole cache, split at the wire limit.
        await network.setPeers([1, 2])
        await pubsub.peerConnected(2)
        #expect(Self.same(await Self.take(network), [(2, .inv(Array(ids.prefix(500)))), (2, .inv([ids[500]]))]))
        // A link the heartbeat finds first is greeted the same way; peer 2, greeted already, hears
        // of them once more while they are in the gossip window.
        await network.setPeers([1, 2, 3])
        await pubsub.heartbeat()
        #expect(
            Self.same(
                await Self.take(network),
                [
                    (2, .inv(Array(ids.prefix(500)))), (2, .inv([ids[500]])), (3, .inv(Array(ids.prefix(500)))),
                    (3, .inv([ids[500]])),
                ]))
        await pubsub.heartbeat()
        #expect(await Self.take(network).isEmpty)
        let stats = await pubsub.statistics
        #expect(stats.invSent == 6 && stats.invIdsSent == 1503)
    }

    @Test func aNewLinkCatchesUpAndRepairedObjectsAreFlooded() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1])
        let collector = await Collector.start(await pubsub.subscribe(Self.topic))
        let a = try Self.object(1, clock: clock)
        let b = try Self.object(2, clock: clock)
        await pubsub.handleIncoming(object: a.bytes, from: 1)
        await pubsub.handleIncoming(object: b.bytes, from: 1)
        await pubsub.heartbeat()
        await pubsub.heartbeat()
        await network.setPeers([1, 2])
        await pubsub.peerConnected(2)
        #expect(Self.same(await Self.take(network), [(2, .inv([a.id, b.id]))]))
        // Peer 2 announces what it has in turn: `a` (known) and `c` (new, asked for).
        let c = try Self.object(3, clock: clock)
        await pubsub.handle(.inv([a.id, c.id]), from: 2)
        #expect(Self.same(await Self.take(network), [(2, .getdata([c.id]))]))
        await pubsub.handle(.object(c.bytes), from: 2)
        #expect(await collector.waitFor(3).map(\.messageID) == [a.id, b.id, c.id])
        #expect(await network.sent.last == RecordingNetwork.Sent(bytes: Self.served(c.bytes), except: 2))
        #expect(await pubsub.statistics.repairedObjects == 1)
        // A forged answer is punished like any invalid object.
        var forged = try Self.object(4, clock: clock).bytes
        forged[forged.count - 1] ^= 1
        await pubsub.handle(.object(forged), from: 2)
        #expect(await network.penalties.map(\.peer) == [2])
    }

    @Test func sendsCountOnlyWhatTheTransportAccepted() async throws {
        let (pubsub, network, clock) = try Self.make()
        await network.setRefusing([3])
        let result = try await pubsub.publish(Array("x".utf8), to: Self.topic)
        #expect(result.transmissions == 2)
        clock.advance(1)
        await pubsub.heartbeat()
        await pubsub.heartbeat()
        let stats = await pubsub.statistics
        #expect(stats.transmissions == 2)
        #expect(stats.invSent == 2, "the inv to peer 3 was refused")
        #expect(Set(await network.direct.map(\.peer)) == [1, 2])
    }

    @Test func theFirstLinkStartsRepair() async throws {
        let (pubsub, network, _) = try Self.make()
        #expect(await !network.repairHandlerInstalled)
        await pubsub.peerConnected()
        #expect(await network.repairHandlerInstalled)
    }
}

@Suite struct MessageCacheTests {
    static func id(_ n: UInt8) -> MessageID { MessageID(bytes: [UInt8](repeating: n, count: 32))! }

    @Test func evictsOldestByCount() {
        var cache = MessageCache<Int>(maxAge: 120, capacity: 3, maxBytes: 1000)
        for n in 1...4 {
            let added = cache.insert(Self.id(UInt8(n)), bytes: [UInt8(n)], window: 0, now: 0, knownBy: [])
            #expect(added)
        }
        #expect(cache.count == 3)
        #expect(!cache.contains(Self.id(1)) && cache.contains(Self.id(2)) && cache.contains(Self.id(4)))
        let again = cache.insert(Self.id(4), bytes: [9], window: 0, now: 0, knownBy: [])
        #expect(!again, "already held")
        #expect(cache.entry(Self.id(4))?.bytes == [4])
    }

    @Test func evictsOldestByBytes() {
        var cache = MessageCache<Int>(maxAge: 120, capacity: 100, maxBytes: 100)
        for n in 1...3 { cache.insert(Self.id(UInt8(n)), bytes: [UInt8](repeating: 0, count: 40), window: 0, now: 0, knownBy: []) }
        #expect(cache.count == 2 && cache.totalBytes == 80 && !cache.contains(Self.id(1)))
        // One object larger than the whole budget is never held (and evicts nothing).
        let huge = cache.insert(Self.id(9), bytes: [UInt8](repeating: 0, count: 101), window: 0, now: 0, knownBy: [])
        #expect(!huge)
        #expect(cache.count == 2)
        cache.insert(Self.id(10), bytes: [UInt8](repeating: 0, count: 100), window: 0, now: 0, knownBy: [])
        #expect(cache.count == 1 && cache.totalBytes == 100)
    }

    @Test func evictsByAge() {
        var cache = MessageCache<Int>(maxAge: 120, capacity: 100, maxBytes: 1000)
        cache.insert(Self.id(1), bytes: [1], window: 0, now: 1000, knownBy: [])
        cache.insert(Self.id(2), bytes: [2], window: 0, now: 1060, knownBy: [])
        cache.expire(now: 1119)
        #expect(cache.count == 2)
        cache.expire(now: 1120)
        #expect(cache.count == 1 && !cache.contains(Self.id(1)) && cache.totalBytes == 1)
        cache.expire(now: 1180)
        #expect(cache.count == 0 && cache.totalBytes == 0)
    }

    @Test func announcesWhatEachPeerIsNotKnownToHaveWithinTheWindows() {
        var cache = MessageCache<Int>(maxAge: 120, capacity: 100, maxBytes: 1000)
        for n in 0..<6 { cache.insert(Self.id(UInt8(n)), bytes: [0], window: n / 2, now: 0, knownBy: n == 3 ? [7] : []) }
        var got = cache.announce(windows: 1...2, to: 7)
        #expect(got == [Self.id(2), Self.id(4), Self.id(5)])
        // Announcing does not make an id known (the inv may be lost): asked again, said again.
        got = cache.announce(windows: 0...2, to: 7)
        #expect(got == [Self.id(0), Self.id(1), Self.id(2), Self.id(4), Self.id(5)])
        for n: UInt8 in [0, 2, 4] { cache.markKnown(Self.id(n), by: 7) }
        got = cache.announce(windows: 0...2, to: 7)
        #expect(got == [Self.id(1), Self.id(5)])
        got = cache.announce(windows: 2...2, to: 8)
        #expect(got == [Self.id(4), Self.id(5)])
        cache.forget(7)
        got = cache.announce(windows: 1...1, to: 7)
        #expect(got == [Self.id(2), Self.id(3)])
    }
}
