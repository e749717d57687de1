import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusPubSub

/// Rule 9 of spec/pubsub.md §15: the spare send budget buys eager links at low load, and the tree
/// sheds them, down to its floor, as load rises; it never grafts a hidden peer's link for latency.
@Suite struct EagerTargetTests {
    @Test func theTargetFollowsTheMeasuredRate() {
        var target = EagerTarget(floor: 3, ceiling: 8, budget: 16)
        #expect(target.target == 8, "nothing measured: every link may be eager")
        for _ in 0..<2 { target.arrived(packets: 1) }
        target.measure(seconds: 1)
        #expect(target.rate == 2 && target.target == 8, "1 + 16/2 = 9 links pay, within the ceiling")
        for _ in 0..<6 { target.arrived(packets: 4) }  // 12 packets/s over 2 s: a rise counts for half
        target.measure(seconds: 2)
        #expect(target.rate == 7 && target.target == 3, "1 + 16/7 = 3.3")
        #expect(target.pruneAbove == 3, "no slack at the floor")
        var quiet = 0
        while target.target == 3 {  // nothing arrives: a fall counts for a twentieth
            target.measure(seconds: 1)
            quiet += 1
        }
        #expect(quiet == 6 && target.target == 4, "7 · 0.95⁶ = 5.15: 1 + 16/5.15 = 4.1")
        #expect(target.pruneAbove == 5, "one link of slack above the floor")
        let rate = target.rate
        target.measure(seconds: 0)
        #expect(target.rate == rate, "no time: no sample")
        for _ in 0..<100 { target.arrived(packets: 1) }
        target.measure(seconds: 1)
        #expect(target.target == 3, "never below the floor")

        var none = EagerTarget(floor: 3, ceiling: 8, budget: 0)
        #expect(none.target == 3, "no spare budget: the floor")
        none.measure(seconds: 1)
        #expect(none.rate == 0 && none.target == 3)
        let inverted = EagerTarget(floor: 5, ceiling: 2, budget: 16)
        #expect(inverted.ceiling == 5 && inverted.target == 5, "the ceiling is never below the floor")
    }

    static func make() throws -> (PubSub<RecordingNetwork>, RecordingNetwork, TestClock) {
        var config = PubSubConfiguration()
        config.heartbeatInterval = nil
        config.dissemination = .tree
        config.pruneAfterDuplicates = 1
        config.keepEagerLinks = 2
        config.maxEagerLinks = 4
        config.spareSendBudget = 16
        config.treeStripes = 1  // one tree; `StripeTests` covers stripes
        let clock = TestClock()
        let network = RecordingNetwork(peers: [1, 2, 3, 4, 5])
        return (try PubSub(network: network, configuration: config, clock: clock.function), network, clock)
    }

    /// Grafts and prunes a node sent, in order (announcements left out).
    static func reshaping(_ network: RecordingNetwork) async -> [(Int, TopicMessage)] {
        await RepairTests.take(network).filter {
            switch $0.1 {
            case .graft, .prune: true
            default: false
            }
        }
    }

    /// Links 1–4 are visible, 5 hidden; 1 prunes its link to this node. Floor 2, ceiling 4.
    @Test func aRisingLoadShedsExtraLinksAndALullGraftsBackOnlyWhatThisNodePruned() async throws {
        let (pubsub, network, clock) = try Self.make()
        await network.setHidden([5])
        await pubsub.handle(.prune(.first), from: 1)
        await pubsub.heartbeat()  // nothing arrived: the target is the ceiling
        #expect(await pubsub.eagerLinkTarget == 4)
        #expect(await Self.reshaping(network).isEmpty, "4 eager links: at the target")

        // Within the target, duplicates are what the budget buys: no prune.
        let x = try RepairTests.object(0, clock: clock)
        await pubsub.handleIncoming(object: x.bytes, from: 2)
        for peer in [3, 4, 4, 5, 5, 5, 5] { await pubsub.handleIncoming(object: x.bytes, from: peer) }
        #expect(await Self.reshaping(network).isEmpty)

        // Load rises (60 objects in one heartbeat): the target falls to the floor, 2, and the
        // heartbeat sheds at once the links whose copies were all duplicates, the longest run
        // first: the hidden peer's (4 in a row; its copies here are all duplicates, and each copy
        // pushed to it costs it a SURB) and 4's (2). 3's (1) stays: 2 brought every first copy.
        for n in 1...60 { await pubsub.handleIncoming(object: try RepairTests.object(n, clock: clock).bytes, from: 2) }
        _ = await Self.reshaping(network)
        await pubsub.heartbeat()
        #expect(await pubsub.eagerLinkTarget == 2)
        let shed = await Self.reshaping(network)
        #expect(DisseminationTests.same(shed, [(5, .prune(.first)), (4, .prune(.first))]), "\(shed)")
        #expect(await pubsub.linkModes() == (eager: 2, lazy: 3), "2 and 3")

        // A lull: the rate falls a twentieth per heartbeat; as the budget pays for more links the
        // node grafts back, one per heartbeat, the visible links it shed, and only those: 1 pruned
        // its own link (it is above its target), and the hidden peer's link is the hidden end's
        // to graft (each copy costs it a SURB).
        var regrafted: [(Int, TopicMessage)] = []
        for _ in 0..<60 {
            await pubsub.heartbeat()
            regrafted += await Self.reshaping(network)
        }
        #expect(await pubsub.eagerLinkTarget == 4)
        #expect(DisseminationTests.same(regrafted, [(4, .graft(.first, []))]), "\(regrafted)")
        #expect(await pubsub.linkModes() == (eager: 3, lazy: 2))
        let stats = await pubsub.statistics
        #expect(stats.spareGrafts == 1 && stats.graftSent == 1 && stats.pruneSent == 2)
    }

    /// An eager link that closes is replaced at the next heartbeat by a lazy one (this node's
    /// own lazy links first), as HyParView promotes a passive peer; at the floor too.
    @Test func anEagerLinkThatClosesIsReplacedAtTheNextHeartbeat() async throws {
        let (pubsub, network, clock) = try Self.make()
        await network.setPeers([1, 2, 3, 4])
        await pubsub.handle(.prune(.first), from: 4)  // 4 pruned its link
        // High load: the target is the floor (2); 3 brings only duplicates and is shed.
        for n in 0..<60 {
            let x = try RepairTests.object(n, clock: clock)
            await pubsub.handleIncoming(object: x.bytes, from: 1)
            if n == 0 { await pubsub.handleIncoming(object: x.bytes, from: 3) }
        }
        await pubsub.heartbeat()
        #expect(await pubsub.eagerLinkTarget == 2)
        #expect(DisseminationTests.same(await Self.reshaping(network), [(3, .prune(.first))]))
        #expect(await pubsub.linkModes() == (eager: 2, lazy: 2))

        await network.setPeers([1, 3, 4])
        await pubsub.peerDisconnected(2)
        await pubsub.heartbeat()
        #expect(DisseminationTests.same(await Self.reshaping(network), [(3, .graft(.first, []))]), "the link this node pruned")
        await network.setPeers([3, 4])
        await pubsub.peerDisconnected(1)
        await pubsub.heartbeat()
        #expect(DisseminationTests.same(await Self.reshaping(network), [(4, .graft(.first, []))]), "then the one left")
        #expect(await pubsub.linkModes() == (eager: 2, lazy: 0))
        await pubsub.peerDisconnected(9)  // never linked: nothing owed beyond the target
        await pubsub.heartbeat()
        #expect(await Self.reshaping(network).isEmpty)
        #expect(await pubsub.statistics.spareGrafts == 0, "replacements, not grafts for latency")
    }

    /// A hidden node keeps the floor: no eager links for latency (each copy to it costs one of
    /// its SURBs), and duplicates prune down to the floor as in rule 3.
    @Test func aHiddenNodeKeepsTheFloor() async throws {
        let (pubsub, network, clock) = try Self.make()
        await network.setSelfHidden(true)
        await pubsub.handle(.prune(.first), from: 1)
        await pubsub.handle(.prune(.first), from: 2)
        // This node pruned 3 once (a duplicate above the floor of 2, before the lull).
        let x = try RepairTests.object(0, clock: clock)
        await pubsub.handleIncoming(object: x.bytes, from: 4)
        await pubsub.handleIncoming(object: x.bytes, from: 3)
        #expect(DisseminationTests.same(await Self.reshaping(network), [(3, .prune(.first))]))
        for _ in 0..<5 { await pubsub.heartbeat() }
        #expect(await pubsub.eagerLinkTarget == 4, "the load is low")
        #expect(await Self.reshaping(network).isEmpty, "but a hidden node grafts nothing for it")
        #expect(await pubsub.linkModes() == (eager: 2, lazy: 3))
        #expect(await pubsub.statistics.spareGrafts == 0)
    }

    @Test func withoutSpareBudgetANodeKeepsItsFloorAndBadSettingsAreRefused() async throws {
        var config = PubSubConfiguration()
        config.heartbeatInterval = nil
        config.spareSendBudget = 0
        config.treeStripes = 1  // one tree; `StripeTests` covers stripes
        let network = RecordingNetwork(peers: [1, 2, 3, 4])
        let clock = TestClock()
        let pubsub = try PubSub(network: network, configuration: config, clock: clock.function)
        // 1 brings every first copy; 2, 3 and 4 three duplicates each: rule 3 alone (prune after
        // 3 in a row above the floor of 3) prunes 2, and nothing grafts it back.
        for n in 0..<3 {
            let x = try RepairTests.object(n, clock: clock)
            await pubsub.handleIncoming(object: x.bytes, from: 1)
            for peer in [2, 3, 4] { await pubsub.handleIncoming(object: x.bytes, from: peer) }
        }
        for _ in 0..<3 { await pubsub.heartbeat() }
        #expect(await pubsub.eagerLinkTarget == config.keepEagerLinks)
        #expect(await pubsub.linkModes() == (eager: 3, lazy: 1))
        let stats = await pubsub.statistics
        #expect(stats.spareGrafts == 0 && stats.graftSent == 0 && stats.pruneSent == 1)

        var bad = PubSubConfiguration()
        bad.maxEagerLinks = 2
        #expect(throws: PubSubError.self) { try bad.validate() }
        bad = PubSubConfiguration()
        bad.spareSendBudget = -1
        #expect(throws: PubSubError.self) { try bad.validate() }
    }
}
