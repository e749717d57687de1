/// Which links get objects pushed in full and which only hear their ids: Plumtree's eager and
/// lazy sets (Leitão, Pereira, Rodrigues 2007; spec/pubsub.md §15), one pair of sets for the
/// whole node.
///
/// Every link starts eager, so a new node is reached at once. A duplicate pushed over an eager
/// link shows the sender is redundant: the link turns lazy (`prune`), and objects then cross it
/// only as ids in the repair heartbeat's `inv`. An id announced over a lazy link and not received
/// in time shows the tree above this node broke: the announcer is grafted (`graft`), and the link
/// turns eager again. Pruning converges to a spanning tree, one copy per node per object.
///
/// The sets are per node, not per topic or per source: every node relays every topic, so a set
/// per topic would only let its shape tell what topics flow where, and a tree per source would
/// need the source's identity in the clear, which is what Nymbus never sends.
///
/// A pure value: the topic layer calls it and sends what it says.
struct PushTree<Peer: Hashable & Sendable>: Sendable {
    /// Links that only hear ids; every other link is eager.
    private(set) var lazy: Set<Peer> = []
    /// The lazy links the peer pruned (rather than this node): a peer above its own target
    /// pruned them, so this node does not graft them back for latency (rule 9), which would only
    /// make the peer prune them again.
    private(set) var prunedByPeer: Set<Peer> = []
    /// Duplicates each eager link brought since it last brought a first copy.
    private var duplicatesInARow: [Peer: Int] = [:]
    /// Duplicates in a row that prune an eager link (1: Plumtree's rule).
    let pruneAfter: Int

    init(pruneAfter: Int = 1) {
        self.pruneAfter = max(1, pruneAfter)
    }

    /// A link came up: eager (rule 1), and with the usefulness of one first copy, as a grafted
    /// link has, so that a leaf does not shed it as an idle child (rule 11) before it had a
    /// chance to bring anything: a publisher restarted on a new link is such a link.
    mutating func linked(_ peer: Peer) {
        creditAsNew(peer)
    }

    /// Gives `peer`'s link at least the usefulness of one first copy (`graftCredit`).
    private mutating func creditAsNew(_ peer: Peer) {
        usefulness[peer] = max(usefulness[peer, default: 0], Self.graftCredit)
    }

    /// A link closed: forgotten, so a new link to the same peer starts eager.
    mutating func unlinked(_ peer: Peer) {
        lazy.remove(peer)
        prunedByPeer.remove(peer)
        graftRefusedAt[peer] = nil
        usefulness[peer] = nil
        firstsThisBeat[peer] = nil
        lastFirstCopyBeat[peer] = nil
        duplicatesInARow[peer] = nil
    }

    /// What the tree above this node did lately, as seen from here.
    enum Arrival: Sendable, Equatable {
        /// A new object arrived pushed.
        case pushed
        /// A new object had to be fetched by a request: its push had not come in time.
        case fetched
        /// The push of a fetched object came after all: the tree is slow, not broken.
        case latePush
    }

    /// The last few arrivals, oldest first, at most `recentLimit`.
    private(set) var recent: [Arrival] = []
    static var recentLimit: Int { 8 }

    /// `peer` brought an object first: pushed (whatever its duplicates said, the link is on some
    /// publisher's fastest path), or fetched by this node's request.
    mutating func firstCopy(from peer: Peer, fetched: Bool = false) {
        if !fetched {
            if duplicatesInARow[peer] != nil { duplicatesInARow[peer] = nil }
            firstsThisBeat[peer, default: 0] += 1
            lastFirstCopyBeat[peer] = beats
        }
        record(fetched ? .fetched : .pushed)
    }

    /// First copies each link pushed since the last heartbeat, and their smoothed count per
    /// heartbeat: how much of this node's tree each link is.
    private var firstsThisBeat: [Peer: Int] = [:]
    private(set) var usefulness: [Peer: Double] = [:]

    /// First copies pushed to this node since the last heartbeat, over all links.
    var pushedThisBeat: Int { firstsThisBeat.values.reduce(0, +) }

    /// Folds the last heartbeat's first copies into each link's usefulness (30 % weight).
    mutating func beat(connected: [Peer]) {
        var next: [Peer: Double] = [:]
        for peer in connected {
            let value = 0.7 * usefulness[peer, default: 0] + 0.3 * Double(firstsThisBeat[peer, default: 0])
            if value > 0.001 { next[peer] = value }
        }
        usefulness = next
        firstsThisBeat = [:]
        beats += 1
    }

    /// The eager links among `connected` that rule 3 would prune (their last `pruneAfter` copies
    /// or more were all duplicates), those that brought the fewest first copies lately first
    /// (on a tie, the longest run of duplicates first): what a node sheds when its target falls
    /// (rule 9). Only links with that evidence go: a prune turns the link lazy at both ends, and
    /// one that is no use to this node may be the other end's fastest path.
    func leastUsefulEagerLinks(among connected: [Peer]) -> [Peer] {
        connected.filter { !lazy.contains($0) && duplicatesInARow[$0, default: 0] >= pruneAfter }.sorted {
            let (a, b) = (usefulness[$0, default: 0], usefulness[$1, default: 0])
            return a != b ? a < b : duplicatesInARow[$0, default: 0] > duplicatesInARow[$1, default: 0]
        }
    }

    /// The eager links among `connected` that brought no first copy lately (no first copy in
    /// about the last ten heartbeats): in a tree this node is a leaf of, the links it only
    /// forwards over, its children. Most recently useful last.
    func idleEagerLinks(among connected: [Peer]) -> [Peer] {
        connected.filter { !lazy.contains($0) && usefulness[$0, default: 0] < Self.idleUsefulness }
            .sorted { usefulness[$0, default: 0] < usefulness[$1, default: 0] }
    }
    /// Whether an eager link among `connected` other than `other` pushed a first copy within the
    /// last `parentMemoryBeats` heartbeats: this node's parent in a tree it is a leaf of. A leaf
    /// sheds children (rule 11) and refuses grafts (rule 12) only while it has one: with none, it
    /// cannot tell a child from the link its next objects will come over (a publisher's new link
    /// that has not published in this stripe yet looks idle too), and keeping them costs nothing,
    /// since a leaf with no parent has nothing to forward. A few heartbeats, not the fading
    /// `usefulness`: a link that went dead (a killed publisher's old link, not yet closed) stops
    /// being a parent at once, while at the loads these rules act at a live parent pushes in
    /// every heartbeat.
    func hasParent(among connected: [Peer], other other: Peer? = nil) -> Bool {
        connected.contains { peer in
            guard peer != other, !lazy.contains(peer), let last = lastFirstCopyBeat[peer] else { return false }
            return beats - last <= Self.parentMemoryBeats
        }
    }
    /// Heartbeats a pushed first copy keeps its link a parent (`hasParent`).
    static var parentMemoryBeats: Int { 3 }
    /// Heartbeats so far, and the one in which each link last pushed a first copy.
    private var beats = 0
    private var lastFirstCopyBeat: [Peer: Int] = [:]

    /// Below this smoothed count of first copies per heartbeat a link is idle: one first copy
    /// counts 0.3 and fades by 0.7 per heartbeat, so it takes ten quiet heartbeats.
    static var idleUsefulness: Double { 0.01 }

    /// The pushed copy of an object this node fetched arrived, at `nowMillis` (a monotonic
    /// clock). It is not a duplicate that counts against the link: counting it would prune the
    /// links a congested tree still depends on, and the grafts that follow would load the tree
    /// further.
    mutating func latePush(atMillis nowMillis: Int64) {
        record(.latePush)
        lastLatePushMillis = nowMillis
    }

    /// When the last late push came (a monotonic clock's milliseconds).
    private(set) var lastLatePushMillis: Int64?

    private mutating func record(_ arrival: Arrival) {
        recent.append(arrival)
        if recent.count > Self.recentLimit { recent.removeFirst() }
    }

    /// Whether pushes came late lately (a fetched object's push arrived after all): the tree
    /// above is there, and loaded. Lately is among the last few arrivals, or within
    /// `windowMillis` before `nowMillis`: at 25 objects/s the last few arrivals are a third of a
    /// second, far shorter than the queues a late push reveals.
    func isSlow(nowMillis: Int64, windowMillis: Int64) -> Bool {
        if recent.contains(.latePush) { return true }
        guard let last = lastLatePushMillis else { return false }
        return nowMillis - last <= windowMillis
    }

    /// Whether a missing object calls for a graft rather than a plain `getdata`: the tree above
    /// this node looks broken (of the last few arrivals, at least two were fetched, or none was
    /// pushed at all) and not merely slow (`isSlow`). One object lost on the mixnet while
    /// pushes keep coming is fetched without reshaping the tree, and so are objects whose pushes
    /// a loaded tree delays (grafting would only add to the load); a part of the tree that went
    /// quiet is grafted back.
    func looksBroken(nowMillis: Int64, windowMillis: Int64) -> Bool {
        guard !isSlow(nowMillis: nowMillis, windowMillis: windowMillis) else { return false }
        return !recent.contains(.pushed) || recent.filter { $0 == .fetched }.count >= 2
    }

    /// A copy of an object this node already had came from `peer`. Returns true if that makes
    /// `pruneAfter` in a row over an eager link: it turns lazy here, and the caller sends `prune`
    /// so the peer's end does too.
    ///
    /// With one shared tree and several publishers, a single duplicate is weak evidence: the
    /// link may be the fastest path from another publisher, and concurrent prunes for different
    /// publishers can cut the tree in two. Waiting for a run of duplicates keeps a link that
    /// still brings first copies.
    ///
    /// `eagerLinks` (the connected eager links now) at or below `keepEager` prunes nothing: a
    /// node keeps a few eager links however many duplicates they bring, which shortens the
    /// paths objects take at the cost of those duplicates. At or below `spareEager` (the links
    /// the spare send budget pays for, rule 9) nothing is pruned either.
    mutating func duplicate(from peer: Peer, eagerLinks: Int = .max, keepEager: Int = 0, spareEager: Int = 0) -> Bool {
        guard !lazy.contains(peer) else { return false }
        let run = duplicatesInARow[peer, default: 0] + 1
        guard run >= runToPrune(eagerLinks: eagerLinks, keepEager: keepEager, spareEager: spareEager) else {
            duplicatesInARow[peer] = run
            return false
        }
        prune(peer)
        return true
    }

    /// Duplicates in a row that prune a link when the node has `eagerLinks`: `pruneAfter` above
    /// the floor; at or below it, `keepEager` is soft: a link that brought nothing but
    /// duplicates for `softFloorFactor × pruneAfter` in a row goes anyway, down to `hardFloor`
    /// eager links (it is on no publisher's fastest path; all it adds is a copy of everything).
    /// Between the floor and `spareEager`, the duplicates are what the spare budget buys: no run
    /// prunes.
    func runToPrune(eagerLinks: Int, keepEager: Int, spareEager: Int = 0) -> Int {
        if eagerLinks > max(keepEager, spareEager) { return pruneAfter }
        if eagerLinks > keepEager { return .max }
        if eagerLinks > min(Self.hardFloor, keepEager) { return pruneAfter * Self.softFloorFactor }
        return .max
    }
    static var hardFloor: Int { 2 }
    static var softFloorFactor: Int { 3 }

    /// Whether one more duplicate from `peer` would prune its link (no change made).
    func completesRun(from peer: Peer) -> Bool {
        !lazy.contains(peer) && duplicatesInARow[peer, default: 0] + 1 >= pruneAfter
    }

    /// Forgets every link not in `connected` (links the topic layer never heard close), so the
    /// sets stay as small as the links a node has.
    mutating func keepOnly(_ connected: Set<Peer>) {
        if lazy.contains(where: { !connected.contains($0) }) {
            lazy = lazy.filter { connected.contains($0) }
            prunedByPeer = prunedByPeer.filter { connected.contains($0) }
        }
        Self.keepOnly(connected, in: &graftRefusedAt)
        Self.keepOnly(connected, in: &duplicatesInARow)
        Self.keepOnly(connected, in: &lastFirstCopyBeat)
    }

    /// Drops the entries of `map` for links not in `connected` (copying only if there are any).
    private static func keepOnly<Value>(_ connected: Set<Peer>, in map: inout [Peer: Value]) {
        if map.keys.contains(where: { !connected.contains($0) }) {
            map = map.filter { connected.contains($0.key) }
        }
    }

    /// `peer` sent `prune`: stop pushing to it.
    mutating func pruned(by peer: Peer) {
        lazy.insert(peer)
        prunedByPeer.insert(peer)
        duplicatesInARow[peer] = nil
    }

    /// This node prunes the link to `peer` (and sends `prune`): stop pushing to it.
    mutating func prune(_ peer: Peer) {
        lazy.insert(peer)
        prunedByPeer.remove(peer)
        duplicatesInARow[peer] = nil
    }

    /// `peer` sent `graft`, or this node grafts `peer`: the link is eager at both ends. It starts
    /// with the usefulness of one first copy, so a leaf does not shed it as idle (rule 11)
    /// before it had a chance to bring anything: about ten heartbeats.
    mutating func grafted(_ peer: Peer) {
        lazy.remove(peer)
        prunedByPeer.remove(peer)
        duplicatesInARow[peer] = nil
        creditAsNew(peer)
    }
    /// A grafted link's usefulness at first: one first copy's worth.
    static var graftCredit: Double { 0.3 }

    /// When this node last refused a `graft` from each peer (the repair clock's seconds).
    private var graftRefusedAt: [Peer: Int64] = [:]

    /// Whether a leaf refuses `peer`'s graft of its lazy link at `now` (rule 12): once, so the
    /// grafter looks for a parent interior in the stripe among its other links. The same peer's
    /// next graft within `graftRefusalMemory` seconds is accepted: it tried its other links and
    /// came back, so this node may be the only one it can reach. An eager link is never refused.
    mutating func refusesGraft(from peer: Peer, now: Int64) -> Bool {
        guard lazy.contains(peer) else { return false }
        if let refused = graftRefusedAt[peer], now - refused < Self.graftRefusalMemory {
            graftRefusedAt[peer] = nil
            return false
        }
        graftRefusedAt[peer] = now
        return true
    }
    /// Seconds a refused graft is remembered: a grafter that comes back later is refused again.
    static var graftRefusalMemory: Int64 { 60 }

    /// The lazy links among `peers` to graft when the tree needs another eager link: those this
    /// node pruned itself first (a peer that pruned its link is above its own target), each
    /// group in random order.
    func lazyLinksToGraft(among peers: [Peer]) -> [Peer] {
        let lazyLinks = peers.filter { lazy.contains($0) }
        return lazyLinks.filter { !prunedByPeer.contains($0) }.shuffled()
            + lazyLinks.filter { prunedByPeer.contains($0) }.shuffled()
    }

    /// Whether objects are pushed to `peer`.
    func isEager(_ peer: Peer) -> Bool { !lazy.contains(peer) }

    /// The peers to push an object to: the eager links among `connected`, except the one it came from.
    func pushTargets(connected: [Peer], except sender: Peer?) -> [Peer] {
        connected.filter { $0 != sender && !lazy.contains($0) }
    }
}
