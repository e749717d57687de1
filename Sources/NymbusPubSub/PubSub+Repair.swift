/// Gossip repair on the topic layer: the heartbeat, links coming and going, and `inv`/`getdata`
/// from peers. The rules are in `GossipRepair`; this carries out what it returns.
extension PubSub {
    /// Starts gossip repair: installs the network's repair handler and, unless
    /// `heartbeatInterval` is nil, the heartbeat timer (each interval jittered by
    /// ±`heartbeatJitter`). Idempotent; `attached(to:)` and the first `peerConnected` call it.
    public func start() async {
        guard !repairStarted else { return }
        repairStarted = true
        await network.setRepairHandler { [weak self] message, peer in await self?.handleRepair(message, from: peer) }
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
        for outgoing in repair.heartbeat(peers: peers, now: clock()) {
            await sendRepair(outgoing.message, to: outgoing.peer)
        }
        // Held publishes wait for a link with room: retried here too, not only when a link comes up.
        if !peers.isEmpty, pendingPublishes > 0 { await flushPending() }
    }

    /// Call when a link to `peer` comes up: it gets an `inv` of every cached object (the last
    /// 2 minutes) and the publishes held while no peer was connected.
    public func peerConnected(_ peer: Network.Peer) async {
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
    }

    /// Handles a repair message from `peer`: an `inv` is answered with `getdata` for what this
    /// node lacks, a `getdata` with the objects still in the cache, and an `object` goes through
    /// the normal receive path.
    public func handleRepair(_ message: RepairMessage, from peer: Network.Peer) async {
        switch message {
        case .inv(let ids):
            stats.invReceived += 1
            let asks = repair.receivedInv(ids, from: peer, now: clock()) { router.seen.contains($0) }
            for ask in asks { await sendRepair(ask, to: peer) }
        case .getdata(let ids):
            for bytes in repair.receivedGetdata(ids, from: peer) where await network.send(.object(bytes), to: peer) {
                stats.getdataServed += 1
            }
        case .object(let bytes):
            await handleIncoming(object: bytes, from: peer)
        }
    }

    /// Objects in the repair cache and their bytes.
    public var messageCacheUsage: (count: Int, bytes: Int) { (repair.cache.count, repair.cache.totalBytes) }

    /// Ids this node wants (asked for or waiting for an announcer), and requests in flight.
    public var repairRequests: (wanted: Int, inFlight: Int) { (repair.wantedCount, repair.requestsInFlight) }

    /// Puts an object this node published, and sent, into the repair cache.
    func cacheOwn(_ id: MessageID, bytes: [UInt8], now: Int64) {
        _ = repair.accepted(id, bytes: bytes, from: nil, now: now)
        archiveOwn(id, bytes: bytes)
    }

    private func sendRepair(_ message: RepairMessage, to peer: Network.Peer) async {
        guard await network.send(message, to: peer) else { return }
        switch message {
        case .inv(let ids):
            stats.invSent += 1
            stats.invIdsSent += ids.count
        case .getdata(let ids):
            stats.getdataSent += 1
            stats.getdataIdsSent += ids.count
        case .object:
            stats.getdataServed += 1
        }
    }
}

extension GossipRepair {
    /// Repair state with the configuration's windows and limits.
    init(configuration c: PubSubConfiguration) {
        var settings = Settings()
        settings.gossipHistory = c.gossipHistory
        settings.gossipDelay = c.gossipDelay
        settings.requestTimeout = c.requestTimeout
        settings.maxRequestsPerPeer = c.maxRequestsPerPeer
        settings.maxRequests = c.maxRequests
        self.init(
            settings: settings,
            cache: MessageCache(
                maxAge: c.messageCacheWindow, capacity: c.messageCacheCapacity, maxBytes: c.messageCacheBytes))
    }
}
