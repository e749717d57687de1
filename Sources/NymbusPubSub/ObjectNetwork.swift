/// What the topic layer needs from the peer layer: send an object to peers, send a repair
/// message to one peer, list the peers, and punish a peer that sends garbage. `Node` conforms;
/// tests of the router logic use an in-memory stand-in.
public protocol ObjectNetwork: Sendable {
    /// How peers are named; opaque to the topic layer.
    associatedtype Peer: Hashable & Sendable

    /// Sends `object` to every connected peer except `except`; returns how many sends the
    /// transport accepted.
    func broadcastObject(_ object: [UInt8], except: Peer?) async -> Int

    /// Sends `message` to `peer` alone; returns whether the transport accepted it.
    func send(_ message: RepairMessage, to peer: Peer) async -> Bool

    /// The peers connected now.
    func connectedPeers() async -> [Peer]

    /// Installs the handler for `inv` and `getdata` from peers (the topic layer installs it
    /// itself when it starts, so callers that wire objects and peer events by hand get repair too).
    func setRepairHandler(_ handler: @escaping @Sendable (RepairMessage, Peer) async -> Void) async

    /// Records misbehaviour by `peer`: it forwarded an object no honest relay forwards.
    func penalizeInvalidObject(from peer: Peer, reason: String) async

    /// Returns once the peers' send queues have room for another object of this node's own:
    /// how a publisher is slowed to the pace the mixnet carries (spec/node.md §13).
    func waitForSendRoom() async

    /// Lets every publisher waiting in `waitForSendRoom()` go, now and from now on (shutdown:
    /// the queues get what is left, beyond their bounds, instead of holding the stop up).
    func releaseSendWaiters() async
}

extension ObjectNetwork {
    /// A network with no send queues of its own never makes a publisher wait.
    public func waitForSendRoom() async {}

    public func releaseSendWaiters() async {}
}
