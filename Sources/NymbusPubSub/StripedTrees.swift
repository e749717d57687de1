import NymbusWire

/// The node's dissemination trees, one per stripe (SplitStream: Castro, Druschel, Kermarrec,
/// Nandi, Rowstron, Singh, 2003; spec/pubsub.md §15).
///
/// Objects are split into stripes by id (`MessageID.stripe(among:)`), and each stripe spreads
/// over a Plumtree of its own (`PushTree`). A node is interior in one stripe, its home stripe,
/// where it keeps a few eager links and forwards each object to the ones it did not come from;
/// in every other stripe it is a leaf, with one eager link that brings the objects in and
/// nothing to forward. In a single tree a node with three eager links forwards two copies of
/// every object: at 25 objects/s that is all of its nym-client's ~50 packets/s. With two stripes
/// it forwards two copies of half the objects, and the forwarding is spread over all nodes
/// instead of a tree's branching nodes.
///
/// A pure value: the topic layer calls it and sends what it says.
struct StripedTrees<Peer: Hashable & Sendable>: Sendable {
    /// One tree per stripe.
    private var trees: [PushTree<Peer>]
    /// The stripe this node is interior in.
    let home: Int
    /// Eager links that closed since the last heartbeat, per stripe: each is replaced then.
    var eagerLinksLost: [Int]

    init(stripes: Int, home: Int, pruneAfter: Int) {
        let count = max(1, stripes)
        trees = Array(repeating: PushTree(pruneAfter: pruneAfter), count: count)
        self.home = min(max(0, home), count - 1)
        eagerLinksLost = Array(repeating: 0, count: count)
    }

    /// How many stripes there are.
    var count: Int { trees.count }

    /// Every stripe, lowest first.
    var stripes: Range<Int> { trees.indices }

    /// The tree of `stripe`.
    subscript(stripe: Int) -> PushTree<Peer> {
        get { trees[stripe] }
        set { trees[stripe] = newValue }
    }

    /// The stripe `id` belongs to.
    func stripe(of id: MessageID) -> Int { id.stripe(among: trees.count) }

    /// The tree `id` spreads over.
    subscript(id id: MessageID) -> PushTree<Peer> {
        get { trees[stripe(of: id)] }
        set { trees[stripe(of: id)] = newValue }
    }

    /// Eager links a node keeps in `stripe` however high the load: `interior` in its home stripe
    /// (a hidden node is interior in none: each copy pushed to it costs it a reply SURB), `leaf`
    /// in the others (never more than `interior`). With one stripe, every node is interior.
    func floor(of stripe: Int, interior: Int, leaf: Int, hidden: Bool) -> Int {
        guard trees.count > 1 else { return interior }
        return stripe == home && !hidden ? interior : min(leaf, interior)
    }

    /// Whether this node is a leaf of `stripe`: with several stripes, every stripe but its home
    /// stripe, and for a hidden node every stripe.
    func isLeaf(of stripe: Int, hidden: Bool) -> Bool { trees.count > 1 && (stripe != home || hidden) }

    /// Whether `peer`'s link is eager in `stripe`.
    func isEager(_ peer: Peer, in stripe: Int) -> Bool { trees[stripe].isEager(peer) }

    /// Whether `peer`'s link is eager in every stripe (objects of every stripe are pushed over it).
    func isEagerInAll(_ peer: Peer) -> Bool { trees.allSatisfy { $0.isEager(peer) } }

    /// Whether `peer`'s link is eager in some stripe.
    func isEagerInAny(_ peer: Peer) -> Bool { trees.contains { $0.isEager(peer) } }

    /// First copies pushed to this node since the last heartbeat, over all links and stripes.
    var pushedThisBeat: Int { trees.reduce(0) { $0 + $1.pushedThisBeat } }

    /// A link came up: eager in every stripe, and credited as a grafted link is
    /// (`PushTree.linked`).
    mutating func linked(_ peer: Peer) {
        for stripe in trees.indices { trees[stripe].linked(peer) }
    }

    /// A link closed: forgotten in every stripe, so a new link to the same peer starts eager.
    /// Counts, per stripe, whether it was eager (to be replaced).
    mutating func unlinked(_ peer: Peer) {
        for stripe in trees.indices {
            if trees[stripe].isEager(peer) { eagerLinksLost[stripe] += 1 }
            trees[stripe].unlinked(peer)
        }
    }

    /// Forgets every link not in `connected`.
    mutating func keepOnly(_ connected: Set<Peer>) {
        for stripe in trees.indices { trees[stripe].keepOnly(connected) }
    }

    /// `peer` sent `prune` for `mask`'s stripes.
    mutating func pruned(by peer: Peer, in mask: StripeMask) {
        for stripe in trees.indices where mask.contains(stripe: stripe) { trees[stripe].pruned(by: peer) }
    }

    /// `peer` sent `graft` for `mask`'s stripes, or this node grafts them.
    mutating func grafted(_ peer: Peer, in mask: StripeMask) {
        for stripe in trees.indices where mask.contains(stripe: stripe) { trees[stripe].grafted(peer) }
    }

    /// The mask naming every stripe this node uses.
    var allStripes: StripeMask { StripeMask(rawValue: UInt8(truncatingIfNeeded: (1 << trees.count) - 1)) }
}
