import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusPubSub

/// Plumtree's eager/lazy rules on ONE node (spec/pubsub.md §15), with the in-memory network and
/// a manual clock. Cross-node behaviour (trees forming, grafts after a relay dies) is tested over
/// the local mixnet in `TreeMixnetTests`.
@Suite struct DisseminationTests {
    static func make(
        peers: Set<Int> = [1, 2, 3], dissemination: PubSubConfiguration.Dissemination = .tree, keepEagerLinks: Int = 0,
        spareSendBudget: Double = 0
    ) throws -> (PubSub<RecordingNetwork>, RecordingNetwork, TestClock) {
        var config = PubSubConfiguration()
        config.heartbeatInterval = nil
        config.dissemination = dissemination
        config.graftTimeout = .seconds(2)
        config.pruneAfterDuplicates = 1  // Plumtree's rule; `pruningWaitsForARunOfDuplicates` covers more
        config.keepEagerLinks = keepEagerLinks  // 0: a pure tree; `aNodeKeepsItsLastEagerLinks` covers the floor
        config.spareSendBudget = spareSendBudget  // 0: no eager links for latency; `EagerTargetTests` covers rule 9
        config.treeStripes = 1  // one tree; `StripeTests` covers stripes
        let clock = TestClock()
        let network = RecordingNetwork(peers: peers)
        return (try PubSub(network: network, configuration: config, clock: clock.function), network, clock)
    }

    static func take(_ network: RecordingNetwork) async -> [(Int, TopicMessage)] {
        await RepairTests.take(network)
    }

    @Test func pushTreeStartsEagerAndMovesOnPruneAndGraft() {
        var tree = PushTree<Int>()
        #expect(tree.pushTargets(connected: [1, 2, 3], except: nil) == [1, 2, 3], "every link starts eager")
        let first = tree.duplicate(from: 1)
        let second = tree.duplicate(from: 1)
        #expect(first, "an eager link that brought a duplicate is pruned")
        #expect(!second, "only once")
        #expect(tree.pushTargets(connected: [1, 2, 3], except: 2) == [3])
        tree.pruned(by: 2)
        #expect(tree.pushTargets(connected: [1, 2, 3], except: nil) == [3])
        tree.grafted(1)
        #expect(tree.isEager(1) && !tree.isEager(2) && tree.lazy == [2])
        tree.unlinked(2)
        #expect(tree.lazy.isEmpty && tree.isEager(2), "a new link to the same peer starts eager")
    }

    @Test func aDuplicateOverAnEagerLinkPrunesItOnce() async throws {
        let (pubsub, network, clock) = try Self.make()
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handleIncoming(object: x.bytes, from: 1)
        #expect(await network.sent.map(\.except) == [1], "pushed to 2 and 3")
        await pubsub.handleIncoming(object: x.bytes, from: 2)
        #expect(Self.same(await Self.take(network), [(2, .prune(.first))]))
        await pubsub.handleIncoming(object: x.bytes, from: 2)
        #expect(await Self.take(network).isEmpty, "a lazy link is not pruned again")
        let y = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: y.bytes, from: 1)
        #expect(await network.sent.last?.except == nil, "pushed to 3 only: 1 sent it, 2 is lazy")
        let stats = await pubsub.statistics
        #expect(stats.pruneSent == 1 && stats.duplicates == 2 && stats.transmissions == 3)
    }

    @Test func pruningWaitsForARunOfDuplicates() {
        var tree = PushTree<Int>(pruneAfter: 3)
        var pruned = [tree.duplicate(from: 1), tree.duplicate(from: 1)]
        tree.firstCopy(from: 1)  // still some publisher's fastest path: the run starts again
        pruned += [tree.duplicate(from: 1), tree.duplicate(from: 1), tree.duplicate(from: 1)]
        #expect(pruned == [false, false, false, false, true], "the third in a row prunes")
        #expect(!tree.isEager(1))
        var fresh = PushTree<Int>()
        let broken = { (tree: PushTree<Int>) in tree.looksBroken(nowMillis: 0, windowMillis: 2000) }
        #expect(broken(fresh), "nothing pushed yet")
        fresh.firstCopy(from: 2, fetched: true)
        #expect(broken(fresh), "nothing pushed lately")
        for _ in 0..<8 { fresh.firstCopy(from: 2) }
        #expect(!broken(fresh) && fresh.recent == Array(repeating: .pushed, count: 8))
        fresh.firstCopy(from: 2, fetched: true)
        #expect(!broken(fresh), "one loss among pushes: fetched, the tree stays")
        fresh.firstCopy(from: 2, fetched: true)
        #expect(broken(fresh), "two of the last eight had to be fetched")
    }

    @Test func aLatePushMeansSlowNotBroken() {
        var tree = PushTree<Int>(pruneAfter: 1)
        for _ in 0..<6 { tree.firstCopy(from: 1) }
        tree.firstCopy(from: 1, fetched: true)
        tree.firstCopy(from: 1, fetched: true)
        let window: Int64 = 4000
        #expect(tree.looksBroken(nowMillis: 10_000, windowMillis: window), "two fetched, no push of theirs came")
        #expect(!tree.isSlow(nowMillis: 10_000, windowMillis: window))
        tree.latePush(atMillis: 10_000)
        #expect(!tree.looksBroken(nowMillis: 10_000, windowMillis: window), "one of their pushes came after all: the tree is loaded")
        #expect(tree.isSlow(nowMillis: 10_000, windowMillis: window))
        #expect(tree.isEager(1), "a late push prunes nothing")
        for _ in 0..<8 { tree.firstCopy(from: 1, fetched: true) }
        // Eight arrivals later (a third of a second at 25 objects/s) the queues above are still long.
        #expect(tree.isSlow(nowMillis: 14_000, windowMillis: window), "within the window: still slow")
        #expect(!tree.looksBroken(nowMillis: 14_000, windowMillis: window))
        #expect(!tree.isSlow(nowMillis: 14_001, windowMillis: window), "the late push left the window and the last arrivals")
        #expect(tree.looksBroken(nowMillis: 14_001, windowMillis: window), "eight fetched, none pushed")
    }

    /// A pushed copy that arrives after this node fetched the object is a late push: it prunes
    /// nothing, counts in `latePushes`, and its lag (from the id's first announcement) becomes
    /// the graft timeout; another duplicate from the same link prunes as before.
    @Test func theLatePushOfAFetchedObjectPrunesNothingAndLengthensTheGraftTimeout() async throws {
        let (pubsub, network, clock) = try Self.make()
        await pubsub.handle(.prune(.first), from: 2)
        // An id from a link's first `inv` (its catch-up: history) measures no lag.
        let early = try RepairTests.object(0, clock: clock)
        await pubsub.handle(.inv([early.id]), from: 2)
        await pubsub.handleIncoming(object: early.bytes, from: 1)
        #expect(await pubsub.repair.pushLag.samples == 0, "the link's first inv is history")
        for _ in 0..<3 { await pubsub.heartbeat() }  // the links are greeted, and older than a window
        _ = await Self.take(network)
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handle(.inv([x.id]), from: 2)
        clock.advance(2)
        await pubsub.heartbeat()
        let asked = await Self.take(network).filter { if case .inv = $0.1 { false } else { true } }
        #expect(asked.count == 1 && asked.first?.0 == 2)
        await pubsub.handle(.object(x.bytes), from: 2)
        #expect(await pubsub.repair.pushLag.samples == 0, "fetched: no lag measured yet")
        await pubsub.handleIncoming(object: x.bytes, from: 1)  // the push from the eager link, late
        let stats = await pubsub.statistics
        #expect(stats.latePushes == 1 && stats.duplicates == 1 && stats.pruneSent == 0)
        #expect(await Self.take(network).isEmpty, "no prune")
        let lag = await pubsub.repair.pushLag
        #expect(lag.samples == 1 && lag.smoothed != nil, "the late push's lag is measured")
        await pubsub.handleIncoming(object: x.bytes, from: 1)  // a second copy is a plain duplicate
        #expect(Self.same(await Self.take(network), [(1, .prune(.first))]))
        #expect(await pubsub.statistics.latePushes == 1)
    }

    /// A lag estimate an overload left shrinks by a quarter in each heartbeat that brought pushes
    /// and no lag, so a quiet tree's graft timeout comes back down instead of staying at 10 s.
    @Test func aLagEstimateShrinksInHeartbeatsWithPushesAndNoLag() {
        var lag = PushLag()
        lag.beat(pushed: 5)
        #expect(lag.samples == 0 && lag.timeoutMilliseconds == nil, "nothing measured: nothing to shrink")
        lag.add(8000)  // smoothed 8000, deviation 4000
        #expect(lag.timeoutMilliseconds == 24_000)
        lag.beat(pushed: 3)
        #expect(lag.timeoutMilliseconds == 24_000, "a lag came in this heartbeat: kept")
        lag.beat(pushed: 0)
        #expect(lag.timeoutMilliseconds == 24_000, "nothing pushed: no evidence either way")
        lag.beat(pushed: 2)
        #expect(lag.smoothed == 6000 && lag.timeoutMilliseconds == 18_000, "pushes, no lag: a quarter off")
        var beats = 1
        while (lag.timeoutMilliseconds ?? 0) > 2000 {
            lag.beat(pushed: 1)
            beats += 1
        }
        #expect(beats == 9, "24 s to under 2 s in 9 quiet heartbeats")
        lag.add(3000)
        #expect(lag.samples == 2)
        let before = lag.timeoutMilliseconds
        lag.beat(pushed: 4)
        #expect(lag.timeoutMilliseconds == before, "a lag in the interval: kept")
    }

    /// Before any lag is measured, the links' round-trip timeout stands in; heartbeats whose
    /// pushes all beat their announcements shrink it as they shrink a measured lag, down to 1 s.
    @Test func theRoundTripFallbackShrinksInQuietHeartbeatsUntilALagIsMeasured() {
        var lag = PushLag()
        #expect(lag.shrunk(5000, floor: 1000) == 5000)
        lag.beat(pushed: 0)
        #expect(lag.shrunk(5000, floor: 1000) == 5000, "nothing pushed: no evidence")
        lag.beat(pushed: 3)
        #expect(lag.shrunk(5000, floor: 1000) == 3750)
        lag.beat(pushed: 1)
        #expect(lag.shrunk(5000, floor: 1000) == 2812.5)
        for _ in 0..<10 { lag.beat(pushed: 1) }
        #expect(lag.shrunk(5000, floor: 1000) == 1000, "never below the floor")
        lag.add(4000)
        #expect(lag.timeoutMilliseconds == 12_000, "a measured lag takes over")
    }

    /// Rule 7: a lazy link hears ids every 2 heartbeats from the end that accepted it, and every
    /// 8 from the end that dialed it; an eager link every 8; a peer that has everything, never.
    /// While the load leaves no spare send budget, the accepting end announces every 4.
    @Test(arguments: [(0.0, 1, 8), (16.0, 1, 8), (16.0, 40, 4)])
    func theDialingEndOfALazyLinkAnnouncesRarely(budget: Double, objectsPerBeat: Int, acceptedLinkInvs: Int) async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1, 2, 3, 4], keepEagerLinks: 3, spareSendBudget: budget)
        await network.setDialed([4, 5])  // 5 is not connected: ignored
        for peer in [2, 3, 4] { await pubsub.handle(.prune(.first), from: peer) }
        var n = 0
        func oneHeartbeat() async throws {
            for _ in 0..<objectsPerBeat {
                n += 1
                await pubsub.handleIncoming(object: try RepairTests.object(n, clock: clock).bytes, from: 1)
            }
            clock.advance(1)
            await pubsub.heartbeat()
        }
        for _ in 0..<4 { try await oneHeartbeat() }
        #expect(await pubsub.hasSpareSendBudget() == (objectsPerBeat == 1))
        _ = await Self.take(network)
        for _ in 0..<16 { try await oneHeartbeat() }
        var invs: [Int: Int] = [:]
        for (peer, message) in await Self.take(network) {
            guard case .inv = message else { continue }
            invs[peer, default: 0] += 1
        }
        #expect(
            invs == [2: acceptedLinkInvs, 3: acceptedLinkInvs, 4: 2],
            "1 sent every object; 2 and 3 accepted our links; we dialed 4")
    }

    @Test func aNodeKeepsItsLastEagerLinks() {
        var tree = PushTree<Int>(pruneAfter: 1)
        let kept = tree.duplicate(from: 1, eagerLinks: 3, keepEager: 3)
        #expect(!kept && tree.isEager(1), "3 eager links left: kept")
        let pruned = tree.duplicate(from: 1, eagerLinks: 4, keepEager: 3)
        #expect(pruned && !tree.isEager(1), "a fourth may go")
    }

    /// The floor is soft: at it, a link that brings only duplicates, 3 × `pruneAfter` in a row,
    /// goes anyway, down to 2 eager links; a first copy starts its run again.
    @Test func aLinkThatOnlyEverBringsDuplicatesGoesEvenAtTheFloor() {
        var tree = PushTree<Int>(pruneAfter: 3)
        var runs: [Bool] = []
        for _ in 0..<8 { runs.append(tree.duplicate(from: 1, eagerLinks: 3, keepEager: 3)) }
        tree.firstCopy(from: 1)
        for _ in 0..<9 { runs.append(tree.duplicate(from: 1, eagerLinks: 3, keepEager: 3)) }
        #expect(runs == Array(repeating: false, count: 16) + [true], "the 9th in a row after a first copy")
        #expect(!tree.isEager(1))
        var belowFloor: [Bool] = []
        for _ in 0..<20 { belowFloor.append(tree.duplicate(from: 2, eagerLinks: 2, keepEager: 3)) }
        #expect(!belowFloor.contains(true) && tree.isEager(2), "never below 2")
        #expect(tree.runToPrune(eagerLinks: 1, keepEager: 1) == .max && tree.runToPrune(eagerLinks: 2, keepEager: 1) == 3)
    }

    @Test func floodModeNeverPrunes() async throws {
        let (pubsub, network, clock) = try Self.make(dissemination: .flood)
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handleIncoming(object: x.bytes, from: 1)
        await pubsub.handleIncoming(object: x.bytes, from: 2)
        #expect(await Self.take(network).isEmpty)
        let y = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: y.bytes, from: 1)
        let stats = await pubsub.statistics
        #expect(stats.transmissions == 4 && stats.pruneSent == 0)
    }

    @Test func aPruneStopsPushesToThatPeer() async throws {
        let (pubsub, network, clock) = try Self.make()
        await pubsub.handle(.prune(.first), from: 3)
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handleIncoming(object: x.bytes, from: 1)
        // Sent to [2] only: 1 is the sender, 3 pruned us; RecordingNetwork names no single `except`.
        let stats = await pubsub.statistics
        #expect(await network.sent.count == 1 && stats.transmissions == 1 && stats.pruneReceived == 1)
    }

    @Test func anAnnouncedIDWaitsForItsPushThenGraftsTheAnnouncer() async throws {
        let (pubsub, network, clock) = try Self.make()
        await pubsub.handle(.prune(.first), from: 2)
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handle(.inv([x.id]), from: 2)
        #expect(await Self.take(network).isEmpty, "not asked at once: the pushed copy may be on its way")
        clock.advance(1)
        await pubsub.heartbeat()
        #expect(await Self.take(network).allSatisfy { if case .inv = $0.1 { true } else { false } })
        clock.advance(1)
        await pubsub.heartbeat()
        let out = await Self.take(network).filter { if case .inv = $0.1 { false } else { true } }
        #expect(Self.same(out, [(2, .graft(.first, [x.id]))]), "the graft timeout passed: graft the lazy announcer")
        await pubsub.handle(.object(x.bytes), from: 2)
        let stats = await pubsub.statistics
        #expect(stats.repairedObjects == 1 && stats.graftSent == 1)
        // Peer 2 is eager again: the next object is pushed to it.
        let y = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: y.bytes, from: 1)
        #expect(await network.sent.last?.except == 1)
    }

    @Test func anIDThatArrivesInTimeIsNeverRequested() async throws {
        let (pubsub, network, clock) = try Self.make()
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handle(.inv([x.id]), from: 2)
        await pubsub.handleIncoming(object: x.bytes, from: 1)
        clock.advance(5)
        await pubsub.heartbeat()
        let requests = await Self.take(network).filter {
            switch $0.1 {
            case .getdata, .graft: true
            default: false
            }
        }
        #expect(requests.isEmpty)
        #expect(await pubsub.repairRequests == (0, 0))
    }

    @Test func aGraftMakesThePeerEagerAndIsAnsweredLikeGetdata() async throws {
        let (pubsub, network, clock) = try Self.make()
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handleIncoming(object: x.bytes, from: 1)
        await pubsub.handleIncoming(object: x.bytes, from: 3)  // 3 is pruned
        _ = await Self.take(network)
        await pubsub.heartbeat()
        await pubsub.heartbeat()  // x is now old enough to serve
        _ = await Self.take(network)
        await pubsub.handle(.graft(.first, [x.id, RepairTests.unknownID()]), from: 3)
        #expect(Self.same(await Self.take(network), [(3, .object(RepairTests.served(x.bytes)))]))
        let y = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: y.bytes, from: 1)
        #expect(await network.sent.last?.except == 1, "pushed to 2 and 3 again")
        #expect(await pubsub.statistics.graftReceived == 1)
    }

    /// Objects older than any heartbeat announces (20 heartbeats) are served as catch-up, to
    /// wait behind live objects; recent ones are served as repair.
    @Test func oldObjectsAreServedAsCatchUp() async throws {
        let (pubsub, network, clock) = try Self.make()
        let old = try RepairTests.object(1, clock: clock)
        await pubsub.handleIncoming(object: old.bytes, from: 1)
        for _ in 0..<19 { await pubsub.heartbeat() }
        let recent = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: recent.bytes, from: 1)
        await pubsub.heartbeat()
        await pubsub.heartbeat()
        _ = await Self.take(network)
        await pubsub.handle(.getdata([old.id, recent.id]), from: 2)
        let served = await Self.take(network)
        #expect(Self.same(served, [(2, .object(old.bytes)), (2, .object(recent.bytes))]))
        #expect(await network.catchUpSent == 1, "only the object 21 heartbeats old")
        #expect(await pubsub.statistics.getdataServed == 2)
    }

    /// The ids of fetched objects whose late push is still expected are bounded
    /// (`GossipRepair.fetchedLimit`), oldest forgotten first: the push of a forgotten one is a
    /// plain duplicate, a remembered one's a late push, however many came and went.
    @Test func fetchedIDsAreRememberedOldestOutFirst() {
        var settings = GossipRepair<Int>.Settings()
        settings.maxRequestsPerPeer = 10_000
        var repair = GossipRepair<Int>(settings: settings, cache: MessageCache(maxAge: 120, capacity: 10_000, maxBytes: 1 << 30))
        let limit = GossipRepair<Int>.fetchedLimit
        let ids = (0..<(2 * limit + 10)).map { n in
            MessageID(bytes: (0..<32).map { UInt8(truncatingIfNeeded: n >> (8 * ($0 % 4))) &+ UInt8($0 / 4) })!
        }
        #expect(Set(ids).count == ids.count)
        let asked = repair.receivedInv(ids, from: 1, now: 0) { _ in false }
        #expect(asked.count == 5, "2058 ids in getdata messages of at most 500")
        var fetched = 0
        for id in ids where repair.accepted(id, bytes: [1], from: 1, now: 0) { fetched += 1 }
        #expect(fetched == ids.count)
        let fellOut = repair.duplicate(ids[limit + 9], from: 2)
        let oldest = repair.duplicate(ids[limit + 10], from: 2)
        let newest = repair.duplicate(ids.last!, from: 2)
        let again = repair.duplicate(ids.last!, from: 3)
        #expect(!fellOut && oldest && newest && !again, "fell out, the oldest remembered, the newest; a late push counts once")
    }

    /// Rule 10: a new link's history (what its first `inv` named) is served as catch-up however
    /// recent; what arrived after the link came up is repair, served with live objects.
    @Test func aNewLinksHistoryIsServedAsCatchUpHoweverRecent() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1, 2, 3])
        let before = try RepairTests.object(1, clock: clock)
        await pubsub.handleIncoming(object: before.bytes, from: 1)
        for _ in 0..<2 { await pubsub.heartbeat() }
        await network.setPeers([1, 2, 3, 4])
        await pubsub.peerConnected(4)
        let greeting = await Self.take(network).filter { $0.0 == 4 }
        #expect(Self.same(greeting, [(4, .inv([before.id]))]))
        let after = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: after.bytes, from: 1)
        for _ in 0..<2 { await pubsub.heartbeat() }
        _ = await Self.take(network)
        await pubsub.handle(.getdata([before.id, after.id]), from: 4)
        #expect(Self.same(await Self.take(network), [(4, .object(before.bytes)), (4, .object(after.bytes))]))
        #expect(await network.catchUpSent == 1, "the history, 4 heartbeats old, goes behind live objects")
    }

    /// Rule 10: an object is not pushed to the peers that announced it.
    @Test func anObjectIsNotPushedToItsAnnouncers() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1, 2, 3, 4])
        let x = try RepairTests.object(1, clock: clock)
        await pubsub.handle(.inv([x.id]), from: 2)
        await pubsub.handleIncoming(object: x.bytes, from: 1)
        #expect(await network.pushedTo == [[3, 4]], "not back to 1, and not to 2, which has it")
        let y = try RepairTests.object(2, clock: clock)
        await pubsub.handleIncoming(object: y.bytes, from: 1)
        #expect(await network.pushedTo.last == [2, 3, 4])
    }

    @Test func aPublisherWhoseLinksAreAllLazyGraftsOne() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1, 2])
        await pubsub.handle(.prune(.first), from: 1)
        await pubsub.handle(.prune(.first), from: 2)
        _ = clock
        let result = try await pubsub.publish([1], to: Topic.named("t"))
        #expect(result.transmissions == 1)
        let direct = await Self.take(network)
        #expect(direct.count == 1 && direct.first?.1 == .graft(.first, []))
        #expect(await pubsub.statistics.graftSent == 1)
    }

    static func same(_ a: [(Int, TopicMessage)], _ b: [(Int, TopicMessage)]) -> Bool { RepairTests.same(a, b) }
}
