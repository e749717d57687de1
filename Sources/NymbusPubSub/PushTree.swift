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

    /// A link closed: forgotten, so a new link to the same peer starts eager.
    mutating func unlinked(_ peer: Peer) {
        lazy.remove(peer)
    }

    /// A copy of an object this node already had came from `peer`. Returns true if the link was
    /// eager: it turns lazy here, and the caller sends `prune` so the peer's end does too.
    mutating func duplicate(from peer: Peer) -> Bool {
        lazy.insert(peer).inserted
    }

    /// `peer` sent `prune`: stop pushing to it.
    mutating func pruned(by peer: Peer) {
        lazy.insert(peer)
    }

    /// `peer` sent `graft`, or this node grafts `peer`: the link is eager at both ends.
    mutating func grafted(_ peer: Peer) {
        lazy.remove(peer)
    }

    /// Whether objects are pushed to `peer`.
    func isEager(_ peer: Peer) -> Bool { !lazy.contains(peer) }

    /// The peers to push an object to: the eager links among `connected`, except the one it came from.
    func pushTargets(connected: [Peer], except sender: Peer?) -> [Peer] {
        connected.filter { $0 != sender && !lazy.contains($0) }
    }
}
