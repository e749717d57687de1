import NymbusCrypto
import Logging
public import NymbusWire

/// Catch-up sync on the topic layer (spec/pubsub.md §16): the archive of accepted objects, the
/// range reconciliation a new link starts, fetching what this node lacks and serving what a
/// peer asks, each bounded. The rules are in `SyncState` and `RangeReconciler`; this carries
/// them out.
extension PubSub {
    /// Keeps every accepted object in `archive` from now on, serves it to peers catching up, and
    /// uses it as the long-window dedup index: the ids it holds from the last seen window go into
    /// the seen cache at once (so a restarted node does not take an object it had as new).
    public func useArchive(_ archive: any ObjectArchive) {
        self.archive = archive
        let now = clock()
        do { try archive.expire(now: now) } catch { logArchive(error) }
        let recent = UInt32(clamping: max(0, now - configuration.maxAge.wholeSeconds - configuration.maxFuture.wholeSeconds) / 60)
        for key in archive.index(from: recent).keys {
            if router.recordOwn(key.id, now: now) == .full { break }
        }
    }

    /// Objects and bytes in the archive (zero without one).
    public var archiveUsage: (count: Int, bytes: Int) { archive?.usage ?? (0, 0) }

    /// The sync counters so far.
    public var syncStatistics: SyncStatistics { sync.stats }

    /// Ids catch-up wants now (asked or waiting to be asked).
    public var syncWanted: Int { sync.wantedCount }

    /// Stores an accepted object (from a peer or this node's own) in the archive, if any.
    func archiveAccepted(_ bytes: [UInt8], id: MessageID, timestamp: UInt32) {
        guard let archive else { return }
        do { _ = try archive.insert(ArchivedObject(id: id, timestamp: timestamp, bytes: bytes)) } catch {
            sync.stats.archiveFailures += 1
            logArchive(error)
        }
    }

    /// Archives an object of this node's own (its bytes as sent).
    func archiveOwn(_ id: MessageID, bytes: [UInt8]) {
        guard archive != nil, bytes.count > TopicObject.reservedOffset else { return }
        let t = bytes[37..<41].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        archiveAccepted(bytes, id: id, timestamp: t)
    }

    private func logArchive(_ error: ArchiveError) {
        logger.error("object archive", metadata: ["error": "\(error.reason)"])
    }
}

extension PubSub where Network: SyncNetwork {
    /// Wires catch-up into the network: the network's one topic-message hook now comes here
    /// (``route(_:from:)``), which hands catch-up messages to sync and the rest to dissemination.
    /// Call once, after `useArchive`.
    public func startSync() async {
        guard !syncStarted else { return }
        syncStarted = true
        await network.setTopicMessageHandler { [weak self] message, peer in await self?.route(message, from: peer) }
        guard let interval = configuration.heartbeatInterval else { return }
        syncTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.syncTick()
            }
        }
    }

    /// Stops the sync timer.
    public func stopSync() {
        syncTask?.cancel()
        syncTask = nil
    }

    /// Starts a reconciliation with `peer` over the whole window this node accepts (every topic:
    /// what is asked says nothing about what this node follows).
    public func beginSync(with peer: Network.Peer) async {
        guard let archive else { return }
        let now = clock()
        let start = archive.oldestAcceptable(now: now)
        let first = RangeReconciler.initiate(archive.index(from: start), windowStart: start, settings: sync.settings.reconciler)
        let message = sync.begin(with: peer, windowStart: start, first: first, now: now)
        await sendRanges(message, to: peer)
    }

    /// Call when a link to `peer` comes up: its reconciliation starts `startDelay` later, if the
    /// link is still there (`beginSync` starts one at once).
    public func syncAfterLinking(_ peer: Network.Peer) {
        guard archive != nil else { return }
        let delay = sync.settings.startDelay
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard let self, await self.network.connectedPeers().contains(peer) else { return }
            await self.beginSync(with: peer)
        }
    }

    /// Call when the link to `peer` closes.
    public func syncPeerGone(_ peer: Network.Peer) {
        sync.peerGone(peer)
    }

    /// One sync tick (the timer calls it; tests call it with a manual clock): expires the
    /// archive, restarts stalled rounds, asks again for what timed out, asks for what is queued.
    public func syncTick() async {
        let now = clock()
        if let archive {
            do { try archive.expire(now: now) } catch { logArchive(error) }
        }
        let peers = await network.connectedPeers()
        for peer in sync.stalled(now: now) where peers.contains(peer) { await beginSync(with: peer) }
        for peer in sync.retry(now: now, peers: peers) { await askQueued(peer) }
    }

    /// Where a topic-layer message from a peer goes once catch-up is on: `syncrange`, `syncget`
    /// and `syncobject` to ``handleSync(_:from:)``, objects and their dissemination to
    /// `handle(_:from:)`. The node names none of them; this is the one place they are told apart.
    public func route(_ message: Message, from peer: Network.Peer) async {
        switch message {
        case .syncRanges, .syncGet, .syncObject:
            await handleSync(message, from: peer)
        default:
            guard let topicMessage = TopicMessage(wireMessage: message) else { return }
            await handle(topicMessage, from: peer)
        }
    }

    /// Handles a sync message from `peer`.
    public func handleSync(_ message: Message, from peer: Network.Peer) async {
        switch message {
        case .syncRanges(let ranges):
            sync.stats.rangesReceived += 1
            if ranges.isReply {
                await handleReply(ranges, from: peer)
            } else {
                await answerQuestion(ranges, from: peer)
            }
        case .syncGet(let ids):
            await serve(ids.map(MessageID.init(inventoryID:)), to: peer)
        case .syncObject(let bytes):
            await receiveSynced(bytes, from: peer)
        default:
            break
        }
    }

    // MARK: Responder

    private func answerQuestion(_ question: SyncRanges, from peer: Network.Peer) async {
        let now = clock()
        guard let archive, sync.allowQuestion(from: peer, now: now) else {
            sync.stats.refused += 1
            return
        }
        let answer = RangeReconciler.respond(
            to: question.ranges, index: archive.index(from: 0), settings: sync.settings.reconciler)
        await sendRanges(SyncRanges(round: question.round, isReply: true, ranges: answer), to: peer)
    }

    private func serve(_ ids: [MessageID], to peer: Network.Peer) async {
        guard let archive else { return }
        let allowed = sync.allowServe(ids.count, to: peer, now: clock())
        sync.stats.refused += ids.count - allowed
        let objects: [ArchivedObject]
        do { objects = try archive.objects(Array(ids.prefix(allowed))) } catch {
            logArchive(error)
            return
        }
        for (index, object) in objects.enumerated() {
            guard await network.hasSyncRoom(for: peer), await network.sendSync(.syncObject(object.bytes), to: peer) else {
                // The asker asks again after its timeout.
                sync.stats.refused += objects.count - index
                return
            }
            sync.stats.objectsServed += 1
            sync.stats.bytesServed += object.bytes.count
        }
    }

    // MARK: Initiator

    private func handleReply(_ reply: SyncRanges, from peer: Network.Peer) async {
        // A stale or duplicated reply (the mixnet reorders and duplicates) is ignored.
        guard let archive, let session = sync.session(for: peer, round: reply.round) else { return }
        sync.stats.replySURBsSpent += await network.replySURBs(forPayload: Message.syncRanges(reply).payloadLength)
        let (next, need) = RangeReconciler.reconcile(
            reply.ranges, index: archive.index(from: session.windowStart), settings: sync.settings.reconciler)
        let seen = router.seen
        sync.need(need.map(MessageID.init(inventoryID:)), from: peer) { seen.contains($0) || archive.contains($0) }
        if let message = sync.advance(with: peer, next: next, now: clock()) { await sendRanges(message, to: peer) }
        await askQueued(peer)
    }

    private func askQueued(_ peer: Network.Peer) async {
        for ids in sync.asks(for: peer, now: clock(), perMessage: Self.idsPerGet) {
            _ = await network.sendSync(.syncGet(ids.map(\.inventoryID)), to: peer)
        }
    }

    /// An object that came by sync: accepted under the archive's window instead of `maxAge`
    /// (spec/pubsub.md §16), never forwarded, delivered once like any object.
    private func receiveSynced(_ bytes: [UInt8], from peer: Network.Peer) async {
        sync.stats.objectsReceived += 1
        sync.stats.bytesReceived += bytes.count
        sync.stats.replySURBsSpent += await network.replySURBs(forPayload: bytes.count)
        let now = clock()
        guard let archive else { return }
        let object: TopicObject
        do { object = try TopicObject(bytes: bytes, maxBytes: configuration.maxObjectBytes) } catch {
            if error.code == .unsupportedVersion { return }
            stats.droppedMalformed += 1
            stats.penalties += 1
            await network.penalizeInvalidObject(from: peer, reason: "invalid object: malformed")
            return
        }
        let id = object.messageID
        guard sync.isWanted(id) else {
            sync.stats.unsolicited += 1
            return
        }
        sync.answered(id, now: now)
        guard object.timestamp >= archive.oldestAcceptable(now: now) else {
            sync.stats.tooOld += 1
            return
        }
        guard object.timestampSeconds <= now + configuration.maxFuture.wholeSeconds else {
            stats.droppedFuture += 1
            return
        }
        guard !router.seen.contains(id), !archive.contains(id) else {
            sync.stats.duplicates += 1
            return
        }
        guard object.hasValidMembershipSignature else {
            stats.droppedBadSignature += 1
            stats.penalties += 1
            await network.penalizeInvalidObject(from: peer, reason: "invalid object: badSignature")
            return
        }
        // Inside the flood window the seen cache must know it too (a flood copy may follow).
        if object.timestampSeconds >= now - configuration.maxAge.wholeSeconds, router.recordOwn(id, now: now) == .full {
            stats.droppedCacheFull += 1
            return
        }
        sync.stats.fetched += 1
        await deliverAccepted(object, id: id, now: now)
        // After delivery: a crash in between gives a duplicate later, never a loss.
        archiveAccepted(bytes, id: id, timestamp: object.timestamp)
    }

    /// Ids per `syncget`: 100, the most reply SURBs a hidden node attaches to one message, so
    /// each answer has its SURB.
    static var idsPerGet: Int { 100 }

    private func sendRanges(_ message: SyncRanges, to peer: Network.Peer) async {
        if await network.sendSync(.syncRanges(message), to: peer) { sync.stats.rangesSent += 1 }
    }
}

extension Message {
    /// Bytes of the payload (what follows the envelope header).
    var payloadLength: Int {
        var w = ByteWriter()
        encodePayload(into: &w)
        return w.bytes.count
    }
}
