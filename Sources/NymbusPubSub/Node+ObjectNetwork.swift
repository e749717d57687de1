public import Logging
public import NymbusNode
import NymbusWire

/// The node is the topic layer's network: objects travel in the overlay's `object` message.
extension Node: ObjectNetwork {
    public typealias Peer = PeerID

    /// Closes the link with `bye(invalidObject)` and discourages the peer (spec/node.md).
    public func penalizeInvalidObject(from peer: PeerID, reason: String) async {
        await penalize(peer, code: .invalidObject, reason: reason)
    }
}

extension PubSub where Network == Node {
    /// A topic layer on `node`, wired in: the node hands it every `object` message, and a new
    /// link flushes the publishes held while no peer was connected.
    ///
    /// This installs the node's object handler and peer handler (each node has one of each). A
    /// caller that needs peer events too should install its own peer handler and call
    /// `peerConnected()` from it.
    public static func attached(
        to node: Node, configuration: PubSubConfiguration = PubSubConfiguration(),
        logger: Logger = Logger(label: "nymbus.pubsub")
    ) async throws(PubSubError) -> PubSub<Node> {
        let pubsub = try PubSub(network: node, configuration: configuration, logger: logger)
        await node.setObjectHandler { [weak pubsub] bytes, peer in
            await pubsub?.handleIncoming(object: bytes, from: peer)
        }
        await node.setPeerHandler { [weak pubsub] event in
            if case .connected = event { await pubsub?.peerConnected() }
        }
        return pubsub
    }
}
