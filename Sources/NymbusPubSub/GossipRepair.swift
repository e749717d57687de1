/// Gossip repair as a pure state machine (spec/pubsub.md "Repair"): Bitcoin's `inv`/`getdata`,
/// gossipsub's IHAVE/IWANT.
///
/// Flooding sends each object once over each link; an object lost on a link (mixnet loss, a
/// full send queue, a link dying mid-flight) or published before a node linked is otherwise
/// never recovered. So every heartbeat each node tells each peer the ids of objects it accepted
/// one to three heartbeats ago that the peer is not known to have; a peer missing one asks with
/// `getdata` and gets the bytes from the message cache. A new link gets every cached id at once.
///
/// The caller (`PubSub`) owns the clock and the network: every method takes `now` (clock
/// seconds) and returns what to send, so tests drive it step by step.
struct GossipRepair<Peer: Hashable & Sendable>: Sendable {
    /// The knobs, from `PubSubConfiguration`.
    struct Settings: Sendable {
        /// Oldest window announced, in heartbeats ago (gossipsub: 3).
        var gossipHistory = 3
        /// Newest windows skipped, in heartbeats (their objects are likely still in flight).
        var gossipDelay = 1
        /// Seconds a `getdata` may go unanswered before another announcer is asked.
        var requestTimeout: Int64 = 10
        /// Requests in flight to one peer.
        var maxRequestsPerPeer = 200
        /// Ids wanted at once (requested or waiting for a free announcer).
        var maxRequests = 8192
        /// Announcers remembered per wanted id.
        var maxAnnouncers = 8
        /// Requests per wanted id before it is given up (an announcer may be asked again when it
        /// is the only one left: the mixnet may have lost the `getdata` or the answer).
        var maxAttempts = 5
        /// Ids per `inv` or `getdata` (the wire limit).
        var maxInventory = 500
        /// Heartbeats after which an object served to a `getdata` counts as catch-up (waits
        /// behind live objects on the link): beyond what the slowest heartbeat announcement
        /// covers (`gossipHistory` + 2 × (8 − 1) windows, spec/pubsub.md §15), only a new link's
        /// first `inv` names it.
        var catchUpAfter = 20
    }

    /// What a heartbeat, a link or an `inv` makes the node send.
    struct Outgoing: Sendable {
        let peer: Peer
        let message: TopicMessage
    }

    /// An id some peer announced and we do not have.
    private struct Want: Sendable {
        /// Peers that announced it and were not asked yet, in announcement order.
        var announcers: [Peer]
        /// The peer asked, and when that request expires.
        var requested: (peer: Peer, expires: Int64)?
        /// When the first announcement arrived (a want older than the cache window is dropped).
        let since: Int64
        /// Requests made so far.
        var attempts: Int
        /// No request before this (clock seconds): the pushed copy may still be on its way.
        var notBefore: Int64 = .min
        /// Monotonic milliseconds of the first announcement, for `pushLag`.
        var announcedAtMillis: Int64?
    }

    let settings: Settings
    /// Objects that can be served.
    private(set) var cache: MessageCache<Peer>
    /// The current (open) heartbeat window; a heartbeat closes it and opens the next.
    private(set) var window = 0
    /// Peers that got their catch-up `inv`.
    private var greeted: Set<Peer> = []
    /// The newest window each greeted peer's catch-up `inv` covered: an object from that window
    /// or older is history to that peer, served behind its link's live objects.
    private var greetedUpTo: [Peer: Int] = [:]
    /// The window in which each link came up here: an `inv` from the peer before this node
    /// greeted it, or in that window or the next, is taken as the peer's catch-up `inv`.
    private var linkedAt: [Peer: Int] = [:]
    /// Each greeted peer's place in the announcement rotation (`heartbeat(peers:now:every:)`).
    private var phases: [Peer: Int] = [:]
    private var greetings = 0
    private var wants: [MessageID: Want] = [:]
    /// Wanted ids in arrival order (may hold ids no longer wanted; compacted as it grows).
    private var wantOrder: [MessageID] = []
    private var inFlight: [Peer: Int] = [:]
    /// Seconds an id announced to us waits before it is asked for (0: asked at once). With
    /// tree dissemination the announcement usually outruns nothing: the object is on its way over
    /// an eager link, so asking at once would only fetch it twice (spec/pubsub.md §15).
    var requestDelay: Int64 = 0
    /// How late pushed copies arrived after their announcement (only while `requestDelay` > 0).
    private(set) var pushLag = PushLag()
    /// Objects fetched by request lately, with when their id was first announced (monotonic
    /// milliseconds, if measured): their pushed copies, if they still come, are late, not
    /// redundant. Oldest first in `fetchedOrder`; at most `fetchedLimit`.
    private var fetched: [MessageID: Int64?] = [:]
    /// Oldest first from `fetchedHead` on (the ids before it have left; compacted as it grows).
    private var fetchedOrder: [MessageID] = []
    private var fetchedHead = 0
    static var fetchedLimit: Int { 1024 }

    init(settings: Settings, cache: MessageCache<Peer>) {
        self.settings = settings
        self.cache = cache
    }

    /// Ids wanted now (requested or waiting).
    var wantedCount: Int { wants.count }

    /// Requests in flight now, in total.
    var requestsInFlight: Int { inFlight.values.reduce(0, +) }

    /// Requests in flight to `peer`.
    func requestsInFlight(to peer: Peer) -> Int { inFlight[peer, default: 0] }

    /// The newest window an announcement or an answer may cover: objects at least `gossipDelay`
    /// heartbeats old.
    private var newestAnnounced: Int { window - 1 - settings.gossipDelay }

    // MARK: Objects

    /// An object this node accepted (from `peer`) or published (`peer` nil): its bytes, as relayed,
    /// enter the cache and any want for it ends. Returns whether it answered our `getdata` to `peer`.
    ///
    /// `nowMillis` (a monotonic clock) lets a push that an announcement beat be measured
    /// (`pushLag`).
    mutating func accepted(_ id: MessageID, bytes: [UInt8], from peer: Peer?, now: Int64, nowMillis: Int64? = nil)
        -> Bool
    {
        var known: Set<Peer> = peer.map { [$0] } ?? []
        var repaired = false
        if let want = wants.removeValue(forKey: id) {
            known.formUnion(want.announcers)
            if let request = want.requested {
                known.insert(request.peer)
                release(request.peer)
                repaired = request.peer == peer
                if repaired { rememberFetched(id, announcedAtMillis: want.announcedAtMillis) }
            } else if let announced = want.announcedAtMillis, let nowMillis {
                pushLag.add(nowMillis - announced)
            }
        }
        cache.insert(id, bytes: bytes, window: window, now: now, knownBy: known)
        return repaired
    }

    /// A heartbeat interval ended in which `pushed` objects came pushed (`PushLag.beat`).
    mutating func pushLagBeat(pushed: Int) { pushLag.beat(pushed: pushed) }

    /// A copy of an object we already had arrived from `peer`: it has it, no need to announce it.
    /// Returns true if it is the late push of an object this node fetched: the tree above is
    /// slow, not redundant, and the lag (from the id's first announcement to `nowMillis`) feeds
    /// `pushLag`, so the graft timeout grows with the load on the mixnet (spec/pubsub.md §15).
    mutating func duplicate(_ id: MessageID, from peer: Peer, nowMillis: Int64? = nil) -> Bool {
        cache.markKnown(id, by: peer)
        guard let announced = fetched.removeValue(forKey: id) else { return false }
        if let announced, let nowMillis { pushLag.add(nowMillis - announced) }
        return true
    }

    /// The peers known to have `id` (they sent or announced it, or were sent it): an object is
    /// not pushed to them.
    func knownBy(_ id: MessageID) -> Set<Peer> { cache.entry(id)?.knownBy ?? [] }

    private mutating func rememberFetched(_ id: MessageID, announcedAtMillis: Int64?) {
        guard fetched.updateValue(announcedAtMillis, forKey: id) == nil else { return }
        fetchedOrder.append(id)
        guard fetchedOrder.count - fetchedHead > Self.fetchedLimit else { return }
        // Ids already removed by their late push stay in the order until they fall out here.
        fetched[fetchedOrder[fetchedHead]] = nil
        fetchedHead += 1
        if fetchedHead >= Self.fetchedLimit {  // amortised O(1): one copy per `fetchedLimit` ids
            fetchedOrder.removeFirst(fetchedHead)
            fetchedHead = 0
        }
    }

    // MARK: Messages from peers

    /// An `inv` from `peer`. Ids we have are marked known by it; ids nobody was asked for are
    /// requested from it while it has free request slots; the rest wait for a slot or for the
    /// current request to expire. Returns the `getdata` messages to send to `peer`.
    mutating func receivedInv(
        _ ids: [MessageID], from peer: Peer, now: Int64, nowMillis: Int64? = nil, isSeen: (MessageID) -> Bool
    ) -> [TopicMessage] {
        var asked: [MessageID] = []
        // A new link's catch-up `inv` names history, mostly: how late a copy of it comes says
        // nothing about the tree's pushes (a joining node's would stretch its graft timeout to
        // the maximum), so no lag is measured from it.
        let history = !greeted.contains(peer) || window <= linkedAt[peer, default: .min] + 1
        for id in ids {
            if isSeen(id) {
                cache.markKnown(id, by: peer)
                continue
            }
            if var want = wants[id] {
                // Already wanted: remember the peer as another source (bounded), ask nothing now.
                if want.requested?.peer != peer, !want.announcers.contains(peer),
                    want.announcers.count < settings.maxAnnouncers
                {
                    want.announcers.append(peer)
                    wants[id] = want
                }
                continue
            }
            guard wants.count < settings.maxRequests else { continue }  // over the cap: ignored
            if requestDelay > 0 {
                wants[id] = Want(
                    announcers: [peer], requested: nil, since: now, attempts: 0, notBefore: now + requestDelay,
                    announcedAtMillis: history ? nil : nowMillis)
            } else if inFlight[peer, default: 0] < settings.maxRequestsPerPeer {
                wants[id] = Want(
                    announcers: [], requested: (peer, now + settings.requestTimeout), since: now, attempts: 1)
                inFlight[peer, default: 0] += 1
                asked.append(id)
            } else {
                wants[id] = Want(announcers: [peer], requested: nil, since: now, attempts: 0)
            }
            wantOrder.append(id)
        }
        return chunks(asked, TopicMessage.getdata)
    }

    /// An object served to a `getdata`: its bytes, and whether it is catch-up (cached before the
    /// asker's link came up, so it learnt of it from the link's first `inv`; or older than any
    /// heartbeat announces), which may wait behind live objects.
    struct Served: Sendable {
        let bytes: [UInt8]
        let catchUp: Bool
    }

    /// A `getdata` from `peer`: the bytes of each id still in the cache and old enough to have
    /// been announced (so nobody can probe what this node received a moment ago), at most
    /// `maxInventory`. Ids we do not have are ignored.
    mutating func receivedGetdata(_ ids: [MessageID], from peer: Peer) -> [Served] {
        var out: [Served] = []
        var answered: Set<MessageID> = []
        for id in ids.prefix(settings.maxInventory) {
            guard let entry = cache.entry(id), entry.window <= newestAnnounced, answered.insert(id).inserted else {
                continue
            }
            cache.markKnown(id, by: peer)
            let history = entry.window < window - settings.catchUpAfter || entry.window <= greetedUpTo[peer, default: .min]
            out.append(Served(bytes: entry.bytes, catchUp: history))
        }
        return out
    }

    // MARK: Links

    /// A link came up: every cached id old enough to announce, in one or more `inv`s (none if
    /// the cache has nothing the peer lacks). Only once per peer.
    mutating func peerConnected(_ peer: Peer) -> [TopicMessage] {
        guard greeted.insert(peer).inserted else { return [] }
        greetedUpTo[peer] = newestAnnounced
        linkedAt[peer] = window
        phases[peer] = greetings
        greetings &+= 1
        return chunks(cache.announce(windows: Int.min...newestAnnounced, to: peer), TopicMessage.inv)
    }

    /// A link closed: its requests are freed (their ids wait for another announcer) and it is
    /// forgotten everywhere.
    mutating func peerDisconnected(_ peer: Peer) {
        greeted.remove(peer)
        greetedUpTo[peer] = nil
        linkedAt[peer] = nil
        phases[peer] = nil
        inFlight[peer] = nil
        for (id, want) in wants {
            var want = want
            want.announcers.removeAll { $0 == peer }
            if want.requested?.peer == peer { want.requested = nil }
            if want.requested == nil, want.announcers.isEmpty {
                wants[id] = nil
            } else {
                wants[id] = want
            }
        }
        cache.forget(peer)
    }

    // MARK: Heartbeat

    /// One heartbeat at `now` with the peers connected now: close the window, expire the cache
    /// and old requests, greet new peers, announce to each peer the ids from the gossip windows
    /// it is not known to have, and ask announcers for ids whose request expired or that waited
    /// for a free slot.
    ///
    /// `every` says how often each peer hears announcements: every `every(peer)` heartbeats
    /// (peers take turns, so the messages spread over the heartbeats), each time with the ids of
    /// the gossip windows stretched so that every id is still announced to each peer at two of
    /// its turns (an `inv` can be lost too). 1 for every peer is gossipsub's rule; the tree
    /// announces to eager links, which get the objects pushed, far less often.
    mutating func heartbeat(peers: [Peer], now: Int64, every: (Peer) -> Int = { _ in 1 }) -> [Outgoing] {
        window += 1
        cache.expire(now: now)
        let connected = Set(peers)
        var gone: Set<Peer> = greeted.subtracting(connected)
        gone.formUnion(inFlight.keys.filter { !connected.contains($0) })
        for peer in gone { peerDisconnected(peer) }

        var out: [Outgoing] = []
        let newest = newestAnnounced
        for peer in peers {
            let cadence = max(1, every(peer))
            let oldest = window - settings.gossipHistory - 2 * (cadence - 1)
            if !greeted.contains(peer) {
                out += peerConnected(peer).map { Outgoing(peer: peer, message: $0) }
            } else if oldest <= newest, (window + phases[peer, default: 0]) % cadence == 0 {
                let ids = cache.announce(windows: oldest...newest, to: peer)
                out += chunks(ids, TopicMessage.inv).map { Outgoing(peer: peer, message: $0) }
            }
        }
        out += requestWaiting(connected: connected, now: now)
        return out
    }

    /// Expires requests and stale wants, then asks a free announcer for each waiting id.
    private mutating func requestWaiting(connected: Set<Peer>, now: Int64) -> [Outgoing] {
        var asks: [Peer: [MessageID]] = [:]
        var peerOrder: [Peer] = []
        var kept: [MessageID] = []
        for id in wantOrder {
            guard var want = wants[id] else { continue }
            if want.since + cache.maxAge <= now || want.since > now + cache.maxAge {
                // Every announcer has evicted it by now (or the clock jumped): give up.
                if let request = want.requested { release(request.peer) }
                wants[id] = nil
                continue
            }
            if let request = want.requested {
                // Expired, or the clock stepped back by more than a timeout.
                guard request.expires <= now || request.expires > now + settings.requestTimeout else {
                    kept.append(id)
                    continue
                }
                release(request.peer)
                want.requested = nil
                // It may be asked again, after the others (loss, not malice, is the likely cause).
                if !want.announcers.contains(request.peer) { want.announcers.append(request.peer) }
            }
            want.announcers.removeAll { !connected.contains($0) }
            if want.attempts >= settings.maxAttempts { want.announcers = [] }
            if want.requested == nil, want.notBefore > now, want.notBefore <= now + requestDelay, !want.announcers.isEmpty {
                wants[id] = want  // still waiting for the pushed copy
                kept.append(id)
                continue
            }
            if let index = want.announcers.firstIndex(where: { inFlight[$0, default: 0] < settings.maxRequestsPerPeer }) {
                let peer = want.announcers.remove(at: index)
                want.requested = (peer, now + settings.requestTimeout)
                want.attempts += 1
                inFlight[peer, default: 0] += 1
                if asks[peer] == nil { peerOrder.append(peer) }
                asks[peer, default: []].append(id)
            }
            if want.requested == nil, want.announcers.isEmpty {
                wants[id] = nil  // nobody left to ask
                continue
            }
            wants[id] = want
            kept.append(id)
        }
        wantOrder = kept
        return peerOrder.flatMap { peer in
            chunks(asks[peer] ?? [], TopicMessage.getdata).map { Outgoing(peer: peer, message: $0) }
        }
    }

    private mutating func release(_ peer: Peer) {
        guard let n = inFlight[peer] else { return }
        inFlight[peer] = n > 1 ? n - 1 : nil
    }

    private func chunks(_ ids: [MessageID], _ make: ([MessageID]) -> TopicMessage) -> [TopicMessage] {
        stride(from: 0, to: ids.count, by: settings.maxInventory).map {
            make(Array(ids[$0..<min($0 + settings.maxInventory, ids.count)]))
        }
    }
}
