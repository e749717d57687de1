import NymbusCrypto
import NymbusWire

/// Gossip repair on the topic layer: the heartbeat, links coming and going, and `inv`/`getdata`
/// from peers. The rules are in `GossipRepair`; this carries out what it returns.
extension PubSub {
    /// Starts gossip repair: installs the network's repair handler (unless catch-up's
    /// `startSync()` already routes every topic message) and, unless `heartbeatInterval` is nil,
    /// the heartbeat timer (each interval jittered by ±`heartbeatJitter`). Idempotent;
    /// `attach(then:)` and the first `peerConnected` call it.
    public func start() async {
        guard !repairStarted else { return }
        repairStarted = true
        if !syncStarted {
            await network.setMessageHandler { [weak self] message, peer in await self?.handle(message, from: peer) }
        }
        guard let interval = configuration.heartbeatInterval else { return }
        let jitter = configuration.heartbeatJitter
        heartbeatTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval * (1 + Double.random(in: -jitter...jitter)))
                guard let self, !Task.isCancelled else { return }
                await self.heartbeat()
            }
        }
    }

    /// One repair heartbeat (the timer calls it; tests call it with a manual clock): announce
    /// recent objects to each peer that is not known to have them, greet new links, and ask
    /// again for objects whose request timed out.
    public func heartbeat() async {
        let peers = await network.connectedPeers()
        if configuration.dissemination == .tree {
            repair.pushLagBeat(pushed: trees.pushedThisBeat)
            repair.requestDelay = await graftDelay()
            trees.keepOnly(Set(peers))
        }
        let trees = self.trees
        // Tree: a lazy link is announced to often by the end that accepted it and now and then
        // (as an eager link) by the end that dialed it; both ends would otherwise announce the
        // same ids to each other (spec/pubsub.md §15 rule 7). A link lazy in any stripe counts
        // as lazy: some of the objects it is announced cross it only as ids.
        let dialed = configuration.dissemination == .tree ? await network.dialedPeers() : []
        let often = { (peer: Network.Peer) in !trees.isEagerInAll(peer) && !dialed.contains(peer) }
        let oftenLinks = peers.filter(often).count
        let lazyEvery =
            configuration.dissemination == .tree
            ? max(
                await hasSpareSendBudget() ? configuration.lazyAnnounceEvery : configuration.lazyAnnounceEveryAtLoad,
                (oftenLinks + configuration.lazyAnnouncementsPerHeartbeat - 1) / configuration.lazyAnnouncementsPerHeartbeat)
            : 1
        let eagerEvery = configuration.dissemination == .tree ? configuration.eagerAnnounceEvery : 1
        for outgoing in repair.heartbeat(peers: peers, now: clock(), every: { often($0) ? lazyEvery : eagerEvery }) {
            await sendRepair(outgoing.message, to: outgoing.peer)
        }
        if configuration.dissemination == .tree { await followEagerTarget(peers: peers) }
        // Held publishes wait for a link with room: retried here too, not only when a link comes up.
        if !peers.isEmpty, pendingPublishes > 0 { await flushPending() }
    }

    /// Whether the load measured at the last heartbeat leaves spare send budget (rule 9): the
    /// target in this node's home stripe is above its floor. Always with no budget configured
    /// (`spareSendBudget` 0 turns rule 9 off, not the load up).
    func hasSpareSendBudget() async -> Bool {
        guard eagerTarget.budget > 0 else { return true }
        let floor = roleFloor(of: trees.home, hidden: await network.isHidden())
        return eagerTarget.leavesSpareBudget(floor: floor)
    }

    /// Rule 9 (spec/pubsub.md §15): measures the load of the last heartbeat interval, then
    /// follows the target in each stripe (`followEagerTarget(in:…)`).
    func followEagerTarget(peers: [Network.Peer]) async {
        // Per heartbeat interval, not per clock reading: a manual heartbeat is one interval too.
        let interval = configuration.heartbeatInterval ?? .seconds(1)
        eagerTarget.measure(seconds: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
        // Links to hidden peers are shed like any other, but never grafted here: each copy pushed
        // to a hidden peer costs it a reply SURB, so only the hidden end grafts them.
        let hidden = await network.hiddenPeers()
        let visible = peers.filter { !hidden.contains($0) }
        let hiddenNode = await network.isHidden()
        for stripe in trees.stripes {
            await followEagerTarget(in: stripe, peers: peers, visible: visible, hiddenNode: hiddenNode)
        }
    }

    /// Rule 9 in one stripe. Above the target (with its slack, `EagerTarget.pruneAbove`) the node
    /// prunes at once the links that rule 3 would prune at a lower target (their last 3 copies
    /// or more were all duplicates), those that brought the fewest first copies lately first,
    /// so a rising load sheds the extra links within a heartbeat or two. Below the target it
    /// grafts one lazy visible link that it pruned itself (one per heartbeat, so the tree grows
    /// gently; a link the peer pruned is the peer's to graft back). Eager links that closed are
    /// replaced at once.
    private func followEagerTarget(in stripe: Int, peers: [Network.Peer], visible: [Network.Peer], hiddenNode: Bool) async {
        let floor = eagerFloor(of: stripe, hidden: hiddenNode)
        let target = eagerTarget.target(floor: floor)
        let mask = StripeMask(stripe: stripe)
        let eager = peers.count(where: { trees.isEager($0, in: stripe) })
        trees[stripe].beat(connected: peers)
        let isLeaf = trees.isLeaf(of: stripe, hidden: hiddenNode)
        if (eagerTarget.budget > 0 || isLeaf), eager > eagerTarget.pruneAbove(floor: floor) {
            var shed = Array(trees[stripe].leastUsefulEagerLinks(among: peers).prefix(eager - target))
            if isLeaf, configuration.leafShedsChildren, shed.count < eager - target,
                trees[stripe].hasParent(among: peers.filter { !shed.contains($0) })
            {
                // A leaf keeps the links that bring its objects in and forwards over none: the
                // links that brought nothing lately are its children, and they go too, to find a
                // parent interior in this stripe (SplitStream's push-down). Only while one link
                // does bring objects: with none, the idle links may be where they will come from.
                let children = trees[stripe].idleEagerLinks(among: peers).filter { !shed.contains($0) }
                    .prefix(eager - target - shed.count)
                shed += children
                stats.leafShed += children.count
            }
            for peer in shed {
                trees[stripe].prune(peer)
                if await network.send(.prune(mask), to: peer) { stats.pruneSent += 1 }
            }
            return
        }
        if eager == 0, floor > 0, !peers.isEmpty {
            // Cut off from this stripe's tree (its last eager links were pruned from the other
            // end): graft one at once, rather than fetch every object until missing ones show
            // the tree broke (rule 6). Links this node pruned itself first, visible ones first.
            trees.eagerLinksLost[stripe] = 0
            let ranked =
                trees[stripe].lazyLinksToGraft(among: visible)
                + trees[stripe].lazyLinksToGraft(among: peers.filter { !visible.contains($0) })
            if let peer = ranked.first { await graft(peer, in: mask) }
            return
        }
        if trees.eagerLinksLost[stripe] > 0 {
            // Eager links closed (a peer left): as HyParView promotes a passive peer, graft lazy
            // links in their place at once, up to the target (a hidden node's is the floor),
            // rather than wait for missing objects to show the tree broke (rule 6).
            let lost = trees.eagerLinksLost[stripe]
            trees.eagerLinksLost[stripe] = 0
            let wanted = min(lost, (hiddenNode ? floor : target) - eager)
            for peer in trees[stripe].lazyLinksToGraft(among: visible).prefix(max(0, wanted)) {
                await graft(peer, in: mask)
            }
            return
        }
        if hiddenNode, trees.count > 1, eager < floor {
            // A hidden node below its floor of two (rule 13, while the load leaves spare budget)
            // grafts one visible link per heartbeat, one it pruned itself first.
            if let peer = trees[stripe].lazyLinksToGraft(among: visible).first { await graft(peer, in: mask) }
            return
        }
        guard target > floor, eager < target, !hiddenNode else { return }
        // Only links this node pruned: a peer that pruned one is above its own target.
        let candidates = visible.filter { !trees.isEager($0, in: stripe) && !trees[stripe].prunedByPeer.contains($0) }
        guard let peer = candidates.randomElement(), await graft(peer, in: mask) else { return }
        stats.spareGrafts += 1
    }

    /// Turns `peer`'s link eager in `stripes` and sends it `graft` with no ids (counted in
    /// `graftSent`); returns whether the link took the message.
    @discardableResult
    func graft(_ peer: Network.Peer, in stripes: StripeMask) async -> Bool {
        trees.grafted(peer, in: stripes)
        guard await network.send(.graft(stripes, []), to: peer) else { return false }
        stats.graftSent += 1
        return true
    }

    /// The eager links the tree keeps at the load measured now (rule 9); `keepEagerLinks` with
    /// no spare send budget, and all links with `flood`.
    public var eagerLinkTarget: Int { eagerTarget.target }

    /// Call when a link to `peer` comes up: it gets an `inv` of every cached object (the last
    /// 2 minutes) and the publishes held while no peer was connected.
    public func peerConnected(_ peer: Network.Peer) async {
        if configuration.dissemination == .tree { trees.linked(peer) }
        await start()
        let invs = repair.peerConnected(peer)  // before any await: the heartbeat must not greet it twice
        await flushPending()
        for inv in invs { await sendRepair(inv, to: peer) }
    }

    /// Stops the repair heartbeat (the node is shutting down); `start()` does not restart it.
    public func stop() {
        heartbeatTask?.cancel()
        heartbeatTask = nil
    }

    /// Call when the link to `peer` closes: its requests are freed for other announcers. (The
    /// heartbeat also notices peers that are gone.)
    public func peerDisconnected(_ peer: Network.Peer) {
        repair.peerDisconnected(peer)
        guard configuration.dissemination == .tree else { return }
        trees.unlinked(peer)
    }

    /// Handles a topic message from `peer`: an `object` goes through the receive path, an `inv`
    /// is answered with `getdata` for what this node lacks, a `getdata` with the objects still
    /// in the cache, `prune` and `graft` turn the link lazy or eager (a `graft`'s ids are
    /// answered as a `getdata`'s).
    public func handle(_ message: TopicMessage, from peer: Network.Peer) async {
        switch message {
        case .inv(let ids):
            stats.invReceived += 1
            let asks = repair.receivedInv(ids, from: peer, now: clock(), nowMillis: Self.monotonicMillis()) {
                router.seen.contains($0)
            }
            for ask in asks { await sendRepair(ask, to: peer) }
        case .getdata(let ids):
            await serve(repair.receivedGetdata(ids, from: peer), to: peer)
        case .object(let bytes):
            await handleIncoming(object: bytes, from: peer)
        case .prune(let stripes):
            stats.pruneReceived += 1
            trees.pruned(by: peer, in: stripes)
        case .graft(let stripes, let ids):
            stats.graftReceived += 1
            let refused = await stripesRefusingGraft(stripes, from: peer)
            trees.grafted(peer, in: stripes.subtracting(refused))
            if !refused.isEmpty {
                stats.graftsRefused += 1
                if await network.send(.prune(refused), to: peer) { stats.pruneSent += 1 }
            }
            await serve(repair.receivedGetdata(ids, from: peer), to: peer)
        }
    }

    /// The stripes of a `graft` from `peer` that this node refuses (rule 12): those it is a leaf
    /// of while the load leaves no spare budget there (its target is its floor, as when rule 11
    /// sheds children) and another link brings it the stripe's objects (`PushTree.hasParent`:
    /// with no parent a leaf has nothing to forward, and the grafter may be where its objects
    /// come from, such as a publisher on a new link), each refused once
    /// (`PushTree.refusesGraft`). The grafter then finds a parent interior in the stripe among
    /// its other links at once, instead of being pushed down by rule 11 ten heartbeats later.
    private func stripesRefusingGraft(_ stripes: StripeMask, from peer: Network.Peer) async -> StripeMask {
        guard configuration.dissemination == .tree, configuration.leafRefusesGrafts, trees.count > 1 else {
            return []
        }
        let hiddenNode = await network.isHidden()
        let now = clock()
        let peers = await network.connectedPeers()
        var refused: StripeMask = []
        for stripe in trees.stripes where stripes.contains(stripe: stripe) && trees.isLeaf(of: stripe, hidden: hiddenNode) {
            let floor = roleFloor(of: stripe, hidden: hiddenNode)
            guard !eagerTarget.leavesSpareBudget(floor: floor), trees[stripe].hasParent(among: peers, other: peer),
                trees[stripe].refusesGraft(from: peer, now: now)
            else { continue }
            refused.insert(StripeMask(stripe: stripe))
        }
        return refused
    }

    /// Sends objects a `getdata` or `graft` asked for; catch-up ones after the link's live objects.
    private func serve(_ served: [GossipRepair<Network.Peer>.Served], to peer: Network.Peer) async {
        for object in served {
            let took =
                object.catchUp
                ? await network.sendCatchUp(.object(object.bytes), to: peer)
                : await network.send(.object(object.bytes), to: peer)
            if took { stats.getdataServed += 1 }
        }
    }

    /// How long an id announced over a lazy link waits for its pushed copy, in whole seconds (the
    /// repair clock's unit) within 1 s…`requestTimeout`: the measured lag of pushes behind
    /// announcements (`PushLag`) once there is one, else the links' median retransmission timeout
    /// (shrunk by heartbeats whose pushes all beat their announcements, `PushLag.shrunk`), else
    /// `graftTimeout`.
    func graftDelay() async -> Int64 {
        let milliseconds: Double
        if let lag = repair.pushLag.timeoutMilliseconds {
            milliseconds = lag
        } else if let timeout = await network.roundTripTimeout() {
            milliseconds = repair.pushLag.shrunk(
                Double(timeout.components.seconds) * 1000 + Double(timeout.components.attoseconds) / 1e15, floor: 1000)
        } else {
            return configuration.graftTimeout.wholeSeconds
        }
        return min(configuration.requestTimeout.wholeSeconds, max(1, Int64((milliseconds / 1000).rounded(.up))))
    }

    /// How long a late push keeps the tree counted as slow (rule 8): two graft timeouts, at least
    /// 2 s. A push that came later than a graft timeout says the queues above are that long, and
    /// they do not empty faster than that.
    var slowWindowMillis: Int64 { max(2, 2 * repair.requestDelay) * 1000 }

    /// Milliseconds of a monotonic clock, for measuring lags (never the wall clock, which jumps).
    static func monotonicMillis() -> Int64 {
        let elapsed = ContinuousClock.now - monotonicOrigin
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    /// Connected links that objects are pushed over in some stripe (eager) and that only hear
    /// ids (lazy in every stripe); with `flood`, every link is eager.
    public func linkModes() async -> (eager: Int, lazy: Int) {
        let peers = await network.connectedPeers()
        guard configuration.dissemination == .tree else { return (peers.count, 0) }
        let lazy = peers.filter { !trees.isEagerInAny($0) }.count
        return (peers.count - lazy, lazy)
    }

    /// Connected eager links in each stripe (index `i` is stripe `i`); with `flood`, every link
    /// in one entry.
    public func eagerLinksPerStripe() async -> [Int] {
        let peers = await network.connectedPeers()
        guard configuration.dissemination == .tree else { return [peers.count] }
        return trees.stripes.map { stripe in peers.count(where: { trees.isEager($0, in: stripe) }) }
    }

    /// The stripe this node is interior in (spec/pubsub.md §15).
    public var homeStripe: Int { trees.home }

    /// Objects in the repair cache and their bytes.
    public var messageCacheUsage: (count: Int, bytes: Int) { (repair.cache.count, repair.cache.totalBytes) }

    /// How long an id announced over a lazy link waits for its push before it is fetched, in
    /// whole seconds (spec/pubsub.md §15 rule 5); 0 with `flood` (asked at once).
    public var graftWaitSeconds: Int64 { repair.requestDelay }

    /// Ids this node wants (asked for or waiting for an announcer), and requests in flight.
    public var repairRequests: (wanted: Int, inFlight: Int) { (repair.wantedCount, repair.requestsInFlight) }

    /// Puts an object this node published, and sent, into the repair cache.
    func cacheOwn(_ id: MessageID, bytes: [UInt8], now: Int64) {
        _ = repair.accepted(id, bytes: bytes, from: nil, now: now)
        archiveOwn(id, bytes: bytes)
    }

    private func sendRepair(_ message: TopicMessage, to peer: Network.Peer) async {
        var message = message
        if configuration.dissemination == .tree, case .getdata(let ids) = message {
            let graft = graftStripes(for: ids, from: peer)
            if !graft.isEmpty {
                // Announced ids that did not arrive in time, and the tree of their stripe above
                // this node looks broken rather than slow: the announcer's link turns eager
                // there, and the request rides on the `graft`.
                message = .graft(graft, ids)
                trees.grafted(peer, in: graft)
            }
        }
        guard await network.send(message, to: peer) else { return }
        switch message {
        case .inv(let ids):
            stats.invSent += 1
            stats.invIdsSent += ids.count
        case .getdata(let ids):
            stats.getdataSent += 1
            stats.getdataIdsSent += ids.count
        case .graft(_, let ids):
            stats.graftSent += 1
            stats.getdataIdsSent += ids.count
        case .object:
            stats.getdataServed += 1
        case .prune:
            stats.pruneSent += 1
        }
    }
}

extension PubSub {
    /// The stripes in which a request for `ids` to `peer` becomes a `graft` (rule 6): those of
    /// the ids whose link to `peer` is lazy and whose tree above this node looks broken (several
    /// of its ids missing at once while no push came late, or most of its last arrivals
    /// fetched) rather than slow.
    func graftStripes(for ids: [MessageID], from peer: Network.Peer) -> StripeMask {
        var missing = Array(repeating: 0, count: trees.count)
        for id in ids { missing[trees.stripe(of: id)] += 1 }
        let (now, window) = (Self.monotonicMillis(), slowWindowMillis)
        var mask: StripeMask = []
        for stripe in trees.stripes where missing[stripe] > 0 && !trees.isEager(peer, in: stripe) {
            let tree = trees[stripe]
            guard (missing[stripe] > 1 && !tree.isSlow(nowMillis: now, windowMillis: window))
                || tree.looksBroken(nowMillis: now, windowMillis: window)
            else { continue }
            mask.insert(StripeMask(stripe: stripe))
        }
        return mask
    }
}

extension GossipRepair {
    /// Repair state with the configuration's windows and limits.
    init(configuration c: PubSubConfiguration) {
        var settings = Settings()
        settings.gossipHistory = c.gossipHistory
        settings.gossipDelay = c.gossipDelay
        settings.requestTimeout = c.requestTimeout.wholeSeconds
        settings.maxRequestsPerPeer = c.maxRequestsPerPeer
        settings.maxRequests = c.maxRequests
        self.init(
            settings: settings,
            cache: MessageCache(
                maxAge: c.messageCacheWindow.wholeSeconds, capacity: c.messageCacheCapacity, maxBytes: c.messageCacheBytes))
    }
}

/// The zero of `PubSub.monotonicMillis()`.
private let monotonicOrigin = ContinuousClock.now
