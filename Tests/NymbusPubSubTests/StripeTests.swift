import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusPubSub

/// Stripes (spec/pubsub.md §15, SplitStream): objects split by id, one tree per stripe, each
/// node interior in its home stripe and a leaf in the others. One node, the in-memory network
/// and a manual clock; `MixnetPubSubTests` and `MixnetRepairTests` run two stripes across nodes.
@Suite struct StripeTests {
    /// A node with links `peers` (1–5), home stripe `home` (0) of `stripes` (2), floors 3 (home)
    /// and 1 (leaf), prune after `pruneAfter` (1) duplicates, `spareSendBudget` (none).
    static func make(
        home: Int = 0, peers: Set<Int> = [1, 2, 3, 4, 5], stripes: Int = 2, pruneAfter: Int = 1,
        spareSendBudget: Double = 0
    ) throws -> (PubSub<RecordingNetwork>, RecordingNetwork, TestClock) {
        var config = PubSubConfiguration()
        config.heartbeatInterval = nil
        config.dissemination = .tree
        config.treeStripes = stripes
        config.homeStripe = home
        config.keepEagerLinks = 3
        config.leafEagerLinks = 1
        config.pruneAfterDuplicates = pruneAfter
        config.spareSendBudget = spareSendBudget
        let clock = TestClock()
        let network = RecordingNetwork(peers: peers)
        return (try PubSub(network: network, configuration: config, clock: clock.function), network, clock)
    }
    /// The budget and prune run of the defaults (16 packets/s, 3 duplicates in a row).
    static let defaults = PubSubConfiguration()

    /// Objects whose ids fall in `stripe` of 2, `count` of them.
    static func objects(inStripe stripe: Int, count: Int, clock: TestClock) throws -> [(bytes: [UInt8], id: MessageID)] {
        var found: [(bytes: [UInt8], id: MessageID)] = []
        var n = 0
        while found.count < count {
            let object = try RepairTests.object(n, clock: clock)
            if object.id.stripe(among: 2) == stripe { found.append(object) }
            n += 1
        }
        return found
    }

    /// The `graft`s among `sent`.
    static func grafts(_ sent: [(Int, TopicMessage)]) -> [(Int, TopicMessage)] {
        sent.filter {
            if case .graft = $0.1 { return true }
            return false
        }
    }

    @Test func anObjectsStripeIsItsFirstByteModuloTheCount() throws {
        let id = try #require(MessageID(bytes: [0x07] + [UInt8](repeating: 0xFF, count: 31)))
        #expect(id.stripe(among: 2) == 1 && id.stripe(among: 4) == 3 && id.stripe(among: 5) == 2 && id.stripe(among: 1) == 0)
        let even = try #require(MessageID(bytes: [0xFE] + [UInt8](repeating: 0x01, count: 31)))
        #expect(even.stripe(among: 2) == 0 && even.stripe(among: 3) == 254 % 3)
    }

    @Test func stripeMasksNameTheirStripes() {
        #expect(StripeMask(stripe: 0).rawValue == 0x01 && StripeMask(stripe: 1).rawValue == 0x02)
        let both: StripeMask = [StripeMask(stripe: 0), StripeMask(stripe: 1)]
        #expect(both.stripes == [0, 1] && both.contains(stripe: 1) && !both.contains(stripe: 2))
        #expect(StripeMask(rawValue: 0x81).stripes == [0, 7] && !both.contains(stripe: -1))
    }

    @Test func treesAreSeparateAndFloorsFollowTheRole() {
        var trees = StripedTrees<Int>(stripes: 2, home: 1, pruneAfter: 1)
        #expect(trees.count == 2 && trees.allStripes.rawValue == 0x03)
        #expect(trees.floor(of: 1, interior: 3, leaf: 1, hidden: false) == 3, "home stripe: interior")
        #expect(trees.floor(of: 0, interior: 3, leaf: 1, hidden: false) == 1, "the other: a leaf")
        #expect(trees.floor(of: 1, interior: 3, leaf: 1, hidden: true) == 1, "a hidden node is a leaf everywhere")
        #expect(StripedTrees<Int>(stripes: 1, home: 0, pruneAfter: 1).floor(of: 0, interior: 3, leaf: 1, hidden: true) == 3)
        trees.pruned(by: 7, in: StripeMask(stripe: 0))
        #expect(!trees.isEager(7, in: 0) && trees.isEager(7, in: 1) && trees.isEagerInAny(7) && !trees.isEagerInAll(7))
        trees.pruned(by: 7, in: .all)
        #expect(!trees.isEagerInAny(7))
        trees.grafted(7, in: StripeMask(stripe: 1))
        #expect(!trees.isEager(7, in: 0) && trees.isEager(7, in: 1))
        trees.unlinked(7)  // eager in stripe 1 only: one link to replace there
        trees.unlinked(8)  // eager in both
        #expect(trees.eagerLinksLost == [1, 2])
        #expect(trees.isEagerInAll(7), "a new link to the same peer starts eager everywhere")
    }

    /// A duplicate prunes the link in the object's stripe only; the other stripe's objects are
    /// still pushed over it.
    @Test func aDuplicatePrunesTheLinkInItsStripeOnly() async throws {
        let (pubsub, network, clock) = try Self.make(home: 0, peers: [1, 2])
        // In the leaf stripe (1) the floor is 1: with links 1 and 2 eager, one may go.
        let leaf = try Self.objects(inStripe: 1, count: 1, clock: clock)[0]
        await pubsub.handleIncoming(object: leaf.bytes, from: 1)
        await pubsub.handleIncoming(object: leaf.bytes, from: 2)
        #expect(DisseminationTests.same(await DisseminationTests.take(network), [(2, .prune(StripeMask(stripe: 1)))]))
        #expect(await pubsub.eagerLinksPerStripe() == [2, 1])
        let home = try Self.objects(inStripe: 0, count: 1, clock: clock)[0]
        await pubsub.handleIncoming(object: home.bytes, from: 1)
        #expect(await network.pushedTo.last == [2], "stripe 0 still pushes over the link pruned in stripe 1")
        let nextLeaf = try Self.objects(inStripe: 1, count: 2, clock: clock)[1]
        await pubsub.handleIncoming(object: nextLeaf.bytes, from: 1)
        #expect(await network.pushedTo.count == 2, "stripe 1 pushes nothing over it: the leaf forwards nothing")
        #expect(await pubsub.linkModes() == (eager: 2, lazy: 0), "eager in some stripe")
    }

    /// In its home stripe a node keeps 3 eager links against short runs of duplicates (the soft
    /// floor's longer run is `DisseminationTests`'); in the leaf stripe, 1.
    @Test func theHomeStripeKeepsItsFloorAndTheLeafStripeOne() async throws {
        let (pubsub, network, clock) = try Self.make(home: 0)
        for stripe in [0, 1] {
            for object in try Self.objects(inStripe: stripe, count: 2, clock: clock) {
                for peer in 1...5 { await pubsub.handleIncoming(object: object.bytes, from: peer) }
            }
        }
        #expect(await pubsub.eagerLinksPerStripe() == [3, 1])
        let prunes = await DisseminationTests.take(network).compactMap { entry -> Int? in
            guard case .prune(let mask) = entry.1 else { return nil }
            return mask.stripes == [0] ? 0 : mask.stripes == [1] ? 1 : -1
        }
        #expect(prunes.sorted() == [0, 0, 1, 1, 1, 1], "2 prunes in the home stripe, 4 in the leaf stripe")
        #expect(await pubsub.homeStripe == 0)
    }

    /// A hidden node is a leaf in every stripe: one eager link each.
    @Test func aHiddenNodeIsALeafInEveryStripe() async throws {
        let (pubsub, network, clock) = try Self.make(home: 0)
        await network.setSelfHidden(true)
        for stripe in [0, 1] {
            for object in try Self.objects(inStripe: stripe, count: 6, clock: clock) {
                for peer in 1...5 { await pubsub.handleIncoming(object: object.bytes, from: peer) }
            }
        }
        #expect(await pubsub.eagerLinksPerStripe() == [1, 1])
    }

    /// While the load leaves spare budget, a hidden node keeps two eager links in each stripe
    /// (rule 13): duplicates prune it down to two, not one, and one pruned from the other end is
    /// grafted back at the next heartbeat. At a load that leaves none it keeps one.
    @Test func aHiddenNodeKeepsTwoParentsPerStripeWhileTheBudgetHasRoom() async throws {
        let (pubsub, network, clock) = try Self.make(peers: [1, 2, 3, 4], spareSendBudget: Self.defaults.spareSendBudget)
        await network.setSelfHidden(true)
        #expect(await [pubsub.eagerFloor(of: 0, hidden: true), pubsub.eagerFloor(of: 1, hidden: true)] == [2, 2])
        #expect(await [pubsub.eagerFloor(of: 0, hidden: false), pubsub.eagerFloor(of: 1, hidden: false)] == [3, 1], "visible: its floors")
        for stripe in [0, 1] {
            for object in try Self.objects(inStripe: stripe, count: 4, clock: clock) {
                for peer in 1...4 { await pubsub.handleIncoming(object: object.bytes, from: peer) }
            }
        }
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2], "duplicates prune down to two")
        _ = await DisseminationTests.take(network)
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 1)
        #expect(await pubsub.eagerLinksPerStripe() == [2, 1])
        await pubsub.heartbeat()
        let grafts = Self.grafts(await DisseminationTests.take(network))
        #expect(grafts.count == 1 && grafts[0].1 == .graft(StripeMask(stripe: 1), []) && grafts[0].0 != 1, "\(grafts)")
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2])

        // 40 objects of stripe 0 in one heartbeat interval: 40 packets/s leave no spare budget.
        for object in try Self.objects(inStripe: 0, count: 44, clock: clock).suffix(40) {
            await pubsub.handleIncoming(object: object.bytes, from: 2)
        }
        await pubsub.heartbeat()
        #expect(await [pubsub.eagerFloor(of: 0, hidden: true), pubsub.eagerFloor(of: 1, hidden: true)] == [1, 1])
        #expect(await pubsub.eagerLinksPerStripe() == [1, 1], "at that load, one parent per stripe")
        _ = await DisseminationTests.take(network)
        await pubsub.heartbeat()
        let more = Self.grafts(await DisseminationTests.take(network))
        #expect(more.isEmpty, "at the floor of one: no graft, \(more)")
    }

    /// `prune` and `graft` from a peer apply to the stripes they name; a graft's ids are served
    /// whatever their stripe. (The graft is of the home stripe: a leaf may refuse one, rule 12.)
    @Test func pruneAndGraftFromAPeerApplyToTheirStripes() async throws {
        let (pubsub, network, clock) = try Self.make(home: 1, peers: [1, 2])
        await pubsub.handle(.prune(.all), from: 2)
        #expect(await pubsub.eagerLinksPerStripe() == [1, 1])
        let cached = try Self.objects(inStripe: 0, count: 1, clock: clock)[0]
        await pubsub.handleIncoming(object: cached.bytes, from: 1)
        await pubsub.heartbeat()
        await pubsub.heartbeat()  // old enough to serve
        _ = await DisseminationTests.take(network)
        await pubsub.handle(.graft(StripeMask(stripe: 1), [cached.id]), from: 2)
        #expect(await pubsub.eagerLinksPerStripe() == [1, 2])
        let served = await DisseminationTests.take(network)
        #expect(DisseminationTests.same(served, [(2, .object(RepairTests.served(cached.bytes)))]), "\(served.count) messages")
        let stats = await pubsub.statistics
        #expect(stats.graftReceived == 1 && stats.pruneReceived == 1)
    }

    /// Ids missing in a stripe whose tree above looks broken make the request a `graft` naming
    /// that stripe alone, even when the same request asks for an id of the other stripe. Once the
    /// grafted link pushes, it replaces the idle one the leaf had (rule 11: a grafted link counts
    /// as useful for a while, an idle one does not; before that push the leaf has no parent in
    /// the stripe and sheds nothing there).
    @Test func aGraftNamesTheStripesWhoseTreeLooksBroken() async throws {
        let (pubsub, network, clock) = try Self.make(home: 0, peers: [1, 2, 3])
        await pubsub.handle(.prune(.all), from: 2)  // 2 is lazy in both stripes
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 1)  // stripe 1: only 3 is eager, and it brings nothing
        // Stripe 0 has had its objects pushed lately; stripe 1 has had none: it looks broken.
        for object in try Self.objects(inStripe: 0, count: 8, clock: clock) {
            await pubsub.handleIncoming(object: object.bytes, from: 1)
        }
        _ = await DisseminationTests.take(network)
        let missing0 = try Self.objects(inStripe: 0, count: 9, clock: clock)[8]
        let missing1 = try Self.objects(inStripe: 1, count: 1, clock: clock)[0]
        await pubsub.handle(.inv([missing0.id, missing1.id]), from: 2)
        clock.advance(1)
        await pubsub.heartbeat()
        clock.advance(1)  // the 2 s graft timeout passed
        await pubsub.heartbeat()
        let requests = await DisseminationTests.take(network).filter {
            if case .inv = $0.1 { return false }
            return true
        }
        #expect(
            DisseminationTests.same(requests, [(2, .graft(StripeMask(stripe: 1), [missing0.id, missing1.id]))]),
            "\(requests)")
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2], "no parent in stripe 1 yet: nothing shed")
        await pubsub.handleIncoming(object: try Self.objects(inStripe: 1, count: 2, clock: clock)[1].bytes, from: 2)
        _ = await DisseminationTests.take(network)
        await pubsub.heartbeat()
        let shed = await DisseminationTests.take(network).filter {
            if case .inv = $0.1 { return false }
            return true
        }
        #expect(DisseminationTests.same(shed, [(3, .prune(StripeMask(stripe: 1)))]), "\(shed)")
        #expect(await pubsub.eagerLinksPerStripe() == [2, 1])
    }

    /// At a load that leaves no spare budget, a leaf of a stripe keeps only the link that brings
    /// its objects in: the link whose copies were all duplicates goes (as rule 9 sheds), and so
    /// do the idle ones, its children, to find a parent interior in that stripe. In its home
    /// stripe nothing idle is shed.
    @Test func aLeafShedsItsChildrenWhenTheLoadLeavesNoSpareBudget() async throws {
        let (pubsub, network, clock) = try Self.make(
            peers: [1, 2, 3, 4], pruneAfter: Self.defaults.pruneAfterDuplicates, spareSendBudget: Self.defaults.spareSendBudget)
        // 40 objects of stripe 1 in one heartbeat interval: 40 packets/s, target 1 + 16/40 → 1.
        for object in try Self.objects(inStripe: 1, count: 40, clock: clock) {
            await pubsub.handleIncoming(object: object.bytes, from: 1)
            await pubsub.handleIncoming(object: object.bytes, from: 4)
        }
        _ = await DisseminationTests.take(network)
        await pubsub.heartbeat()
        let pruned = await DisseminationTests.take(network).filter {
            if case .prune = $0.1 { return true }
            return false
        }
        #expect(
            DisseminationTests.same(pruned, [(4, .prune(StripeMask(stripe: 1))), (2, .prune(StripeMask(stripe: 1))), (3, .prune(StripeMask(stripe: 1)))])
                || DisseminationTests.same(pruned, [(4, .prune(StripeMask(stripe: 1))), (3, .prune(StripeMask(stripe: 1))), (2, .prune(StripeMask(stripe: 1)))]),
            "\(pruned.map(\.0))")
        #expect(await pubsub.eagerLinksPerStripe() == [4, 1])
        let stats = await pubsub.statistics
        #expect(stats.leafShed == 2 && stats.pruneSent == 3, "\(stats.leafShed) shed, \(stats.pruneSent) prunes")
        await pubsub.heartbeat()
        #expect(await pubsub.eagerLinksPerStripe() == [4, 1], "the parent stays")
    }

    /// A link that just came up is not an idle child: at a load that leaves no spare budget, a
    /// leaf keeps it through the heartbeats a grafted link gets to bring something (a publisher
    /// restarted on a new link is one), then sheds it if it brought nothing.
    @Test func aNewLinkIsNotShedAsAnIdleChildBeforeItHadItsChance() async throws {
        let (pubsub, network, clock) = try Self.make(
            peers: [1], pruneAfter: Self.defaults.pruneAfterDuplicates, spareSendBudget: Self.defaults.spareSendBudget)
        await pubsub.peerConnected(1)
        // 40 objects of stripe 1 in one heartbeat interval: 40 packets/s, no spare budget.
        for object in try Self.objects(inStripe: 1, count: 40, clock: clock) {
            await pubsub.handleIncoming(object: object.bytes, from: 1)
        }
        await network.setPeers([1, 4])
        await pubsub.peerConnected(4)
        await pubsub.heartbeat()
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2], "the new link stays")
        #expect(await pubsub.statistics.leafShed == 0)
        // Ten heartbeats later in which it brought nothing (0.3 × 0.7^10 < 0.01) while link 1
        // kept bringing 40 objects each, it is an idle child, and goes.
        let more = try Self.objects(inStripe: 1, count: 440, clock: clock).dropFirst(40)
        for beat in 0..<10 {
            for object in more.dropFirst(40 * beat).prefix(40) { await pubsub.handleIncoming(object: object.bytes, from: 1) }
            await pubsub.heartbeat()
        }
        #expect(await pubsub.eagerLinksPerStripe() == [2, 1])
        #expect(await pubsub.statistics.leafShed == 1)
    }

    /// A node whose last eager links in a stripe were pruned from the other end is cut off from
    /// that stripe's tree: its next heartbeat grafts one link there, not waiting for missing
    /// objects to show it.
    @Test func aNodeCutOffFromAStripeGraftsALinkAtItsNextHeartbeat() async throws {
        let (pubsub, network, _) = try Self.make(home: 0, peers: [1, 2])
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 1)
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 2)
        #expect(await pubsub.eagerLinksPerStripe() == [2, 0])
        await pubsub.heartbeat()
        let grafts = Self.grafts(await DisseminationTests.take(network))
        #expect(grafts.count == 1 && grafts.allSatisfy { $0.1 == .graft(StripeMask(stripe: 1), []) }, "\(grafts.map(\.0))")
        #expect(await pubsub.eagerLinksPerStripe() == [2, 1])
        await pubsub.heartbeat()
        #expect(await pubsub.statistics.graftSent == 1, "one is enough: the leaf's floor")
    }

    /// At a load that leaves no spare budget, a leaf of a stripe answers a graft of its lazy link
    /// there with `prune`, once, so the grafter looks for an interior parent among its other
    /// links; the same peer's next graft within a minute is accepted (it may have no other).
    /// Its home stripe, and an eager link, are never refused.
    @Test func aLeafRefusesAGraftOnceAtALoadThatLeavesNoSpareBudget() async throws {
        let (pubsub, network, clock) = try Self.make(home: 0, peers: [1, 2, 3])
        await pubsub.handle(.prune([StripeMask(stripe: 0), StripeMask(stripe: 1)]), from: 2)
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2])
        // Link 1 brings stripe 1's objects: the leaf has a parent there.
        await pubsub.handleIncoming(object: try Self.objects(inStripe: 1, count: 1, clock: clock)[0].bytes, from: 1)
        _ = await DisseminationTests.take(network)

        await pubsub.handle(.graft([StripeMask(stripe: 0), StripeMask(stripe: 1)], []), from: 2)
        var sent = await DisseminationTests.take(network)
        #expect(DisseminationTests.same(sent, [(2, .prune(StripeMask(stripe: 1)))]), "\(sent)")
        #expect(await pubsub.eagerLinksPerStripe() == [3, 2], "the home stripe takes the graft, the leaf stripe does not")
        var stats = await pubsub.statistics
        #expect(stats.graftsRefused == 1 && stats.pruneSent == 1 && stats.graftReceived == 1)

        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 2)
        sent = await DisseminationTests.take(network)
        #expect(sent.isEmpty, "asked again: accepted, \(sent)")
        #expect(await pubsub.eagerLinksPerStripe() == [3, 3])

        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 3)
        #expect(await DisseminationTests.take(network).isEmpty, "an eager link is not refused")

        // Pruned again, then grafted: a new round, refused once more, then taken.
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 2)
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 2)
        sent = await DisseminationTests.take(network)
        #expect(DisseminationTests.same(sent, [(2, .prune(StripeMask(stripe: 1)))]), "a new round: refused again, \(sent)")
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 2)
        #expect(await DisseminationTests.take(network).isEmpty, "asked again within a minute: accepted")
        // A refusal is remembered for a minute only.
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 2)
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 2)
        _ = await DisseminationTests.take(network)
        clock.advance(61)
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 2)
        sent = await DisseminationTests.take(network)
        #expect(DisseminationTests.same(sent, [(2, .prune(StripeMask(stripe: 1)))]), "a minute later: refused again, \(sent)")
        stats = await pubsub.statistics
        #expect(stats.graftsRefused == 4 && stats.graftReceived == 7, "\(stats.graftsRefused) refused of \(stats.graftReceived)")
    }

    /// A leaf with no parent in a stripe (no link brought it the stripe's objects lately) sheds
    /// no idle link and refuses no graft there, whatever the load: it cannot tell a child from
    /// the link its next objects will come over, as a restarted publisher's new link, and with
    /// nothing coming in it has nothing to forward. Once a link brings objects, both rules apply.
    @Test func aLeafWithNoParentInAStripeNeitherShedsNorRefuses() async throws {
        let (pubsub, network, clock) = try Self.make(home: 0, peers: [1, 4], pruneAfter: Self.defaults.pruneAfterDuplicates)
        // 40 objects of the home stripe in one heartbeat interval: no spare budget, and none of
        // stripe 1, so neither link is a parent there.
        for object in try Self.objects(inStripe: 0, count: 40, clock: clock) {
            await pubsub.handleIncoming(object: object.bytes, from: 1)
        }
        for _ in 0..<3 { await pubsub.heartbeat() }
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2], "no idle link is shed from stripe 1")
        #expect(await pubsub.statistics.leafShed == 0)
        _ = await DisseminationTests.take(network)

        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 4)
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 4)
        #expect(await DisseminationTests.take(network).isEmpty, "the graft is taken")
        #expect(await pubsub.eagerLinksPerStripe() == [2, 2])
        #expect(await pubsub.statistics.graftsRefused == 0)

        // Link 1 brings stripe 1's objects now: link 4's next graft of a lazy link is refused.
        await pubsub.handleIncoming(object: try Self.objects(inStripe: 1, count: 1, clock: clock)[0].bytes, from: 1)
        _ = await DisseminationTests.take(network)
        await pubsub.handle(.prune(StripeMask(stripe: 1)), from: 4)
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 4)
        var sent = await DisseminationTests.take(network)
        #expect(DisseminationTests.same(sent, [(4, .prune(StripeMask(stripe: 1)))]), "\(sent)")
        #expect(await pubsub.statistics.graftsRefused == 1)

        // Four heartbeats with no push from link 1 in stripe 1 (a publisher killed, its link not
        // yet closed): no parent any more, and link 4's graft is taken.
        for _ in 0..<4 { await pubsub.heartbeat() }
        _ = await DisseminationTests.take(network)
        await pubsub.handle(.graft(StripeMask(stripe: 1), []), from: 4)
        sent = await DisseminationTests.take(network)
        #expect(sent.isEmpty, "\(sent)")
        #expect(await pubsub.statistics.graftsRefused == 1)
    }

    /// While the load leaves spare budget (rule 9's extra eager links), a leaf takes grafts, and
    /// so does a node of one tree, which is interior everywhere.
    @Test func aGraftIsTakenWhileTheBudgetHasRoomOrWithOneTree() async throws {
        for (stripes, budget) in [(2, 16.0), (1, 0.0)] {
            let (pubsub, network, _) = try Self.make(
                peers: [1, 2], stripes: stripes, pruneAfter: Self.defaults.pruneAfterDuplicates, spareSendBudget: budget)
            await pubsub.handle(.prune(.all), from: 2)
            await pubsub.handle(.graft(.all, []), from: 2)
            let sent = await DisseminationTests.take(network)
            #expect(sent.isEmpty, "\(stripes) stripes, budget \(budget): \(sent)")
            #expect(await pubsub.eagerLinksPerStripe() == Array(repeating: 2, count: stripes))
            #expect(await pubsub.statistics.graftsRefused == 0)
        }
    }
}
