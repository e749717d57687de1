/// What the topic layer needs from the peer layer: send a topic message to some peers, list the
/// peers, hear every topic message from them, and punish a peer that sends garbage. `Node`
/// conforms; tests of the router logic use an in-memory stand-in.
public protocol ObjectNetwork: Sendable {
    /// How peers are named; opaque to the topic layer.
    associatedtype Peer: Hashable & Sendable

    /// Sends `message` to each of `peers`; returns the peers whose link took it (into its send
    /// queue, on its way to the mixnet).
    func send(_ message: TopicMessage, to peers: [Peer]) async -> [Peer]

    /// Sends `message` to `peer` alone (an answer, an announcement, a request); returns whether
    /// its link took it. Defaults to `send(_:to:)` with one peer.
    func send(_ message: TopicMessage, to peer: Peer) async -> Bool

    /// Sends an object `peer` asked for to catch up (an old one): it may wait behind every live
    /// object on the link, so catching up does not delay what is published now. Defaults to
    /// `send(_:to:)`.
    func sendCatchUp(_ message: TopicMessage, to peer: Peer) async -> Bool

    /// Sends `message` to every connected peer not in `excluded` (how objects are pushed: one
    /// call per object, however many links); returns the peers whose link took it. Defaults to
    /// `connectedPeers()` then `send(_:to:)`.
    func send(_ message: TopicMessage, toAllExcept excluded: Set<Peer>) async -> [Peer]

    /// The peers connected now.
    func connectedPeers() async -> [Peer]

    /// Installs the handler for every topic message from peers (the topic layer installs it
    /// itself when it starts).
    func setMessageHandler(_ handler: @escaping @Sendable (TopicMessage, Peer) async -> Void) async

    /// Records misbehaviour by `peer`: it forwarded an object no honest relay forwards.
    func penalizeInvalidObject(from peer: Peer, reason: String) async

    /// Returns once the peers' send queues have room for another object of this node's own:
    /// how a publisher is slowed to the pace the mixnet carries (spec/node.md §13).
    func waitForSendRoom() async

    /// Lets every publisher waiting in `waitForSendRoom()` go, now and from now on (shutdown:
    /// the queues get what is left, beyond their bounds, instead of holding the stop up).
    func releaseSendWaiters() async

    /// How long an answer over this network may take (for timers that must scale with the
    /// mixnet); nil if nothing was measured yet.
    func roundTripTimeout() async -> Duration?

    /// The connected peers this node dialed (the other end accepted). Both ends of a link know
    /// who dialed, so the tree lets the accepting end announce and the dialing end only now and
    /// then (spec/pubsub.md §15 rule 7). Defaults to none: every link announces alike.
    func dialedPeers() async -> Set<Peer>

    /// The connected peers that are hidden (they gave no address; this node answers them over
    /// their reply SURBs). Every copy pushed to one costs it a SURB, so the tree never grafts
    /// their links for latency (spec/pubsub.md §15 rule 9). Defaults to none.
    func hiddenPeers() async -> Set<Peer>

    /// Whether this node is hidden (it reaches every peer with `sendAnonymous` and is answered
    /// over its own SURBs): it keeps the tree's floor of eager links, never more for latency.
    /// Defaults to false.
    func isHidden() async -> Bool

    /// How long ago the oldest message from the mixnet that this node has not finished handling
    /// arrived; nil when it has handled everything (or cannot tell). While the topic layer
    /// handles a message from a peer, that message is the oldest. Every message that arrived
    /// earlier has been handled, so the order hold measures the mixnet's delays and not a loaded
    /// node's own wait (spec/broker.md "Order"). Defaults to nil.
    func inboundBacklogAge() async -> Duration?
}

extension ObjectNetwork {
    /// A network with no send queues of its own never makes a publisher wait.
    public func waitForSendRoom() async {}

    public func releaseSendWaiters() async {}

    /// Nothing measured: the topic layer uses its configured timeouts.
    public func roundTripTimeout() async -> Duration? { nil }

    /// No direction known: every link announces alike.
    public func dialedPeers() async -> Set<Peer> { [] }

    /// No hidden peers known.
    public func hiddenPeers() async -> Set<Peer> { [] }

    /// Not hidden.
    public func isHidden() async -> Bool { false }

    /// Never behind.
    public func inboundBacklogAge() async -> Duration? { nil }

    /// Sends `message` to `peer` alone; returns whether its link took it.
    public func send(_ message: TopicMessage, to peer: Peer) async -> Bool {
        await !send(message, to: [peer]).isEmpty
    }

    public func sendCatchUp(_ message: TopicMessage, to peer: Peer) async -> Bool {
        await send(message, to: peer)
    }

    public func send(_ message: TopicMessage, toAllExcept excluded: Set<Peer>) async -> [Peer] {
        await send(message, to: connectedPeers().filter { !excluded.contains($0) })
    }
}
