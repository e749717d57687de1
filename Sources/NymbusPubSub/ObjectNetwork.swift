/// What the topic layer needs from the peer layer: send an object to peers, and punish a peer
/// that sends garbage. `Node` conforms; tests of the router logic use an in-memory stand-in.
public protocol ObjectNetwork: Sendable {
    /// How peers are named; opaque to the topic layer.
    associatedtype Peer: Hashable & Sendable

    /// Sends `object` to every connected peer except `except`; returns how many it went to.
    func broadcastObject(_ object: [UInt8], except: Peer?) async -> Int

    /// Records misbehaviour by `peer`: it forwarded an object no honest relay forwards.
    func penalizeInvalidObject(from peer: Peer, reason: String) async
}
