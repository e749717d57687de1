public import Logging
public import NymbusNode
import NymbusWire

/// The node is the topic layer's network: objects travel in the overlay's `object` message,
/// repair in `inv` and `getdata`.
extension Node: ObjectNetwork {
    public typealias Peer = PeerID

    /// Sends `inv`, `getdata` or `object` to one established peer; false if nym-client refused
    /// it or the peer is gone.
    public func send(_ message: RepairMessage, to peer: PeerID) async -> Bool {
        switch message {
        case .inv(let ids): await sendTopicMessage(.inv(ids.map(\.inventoryID)), to: peer)
        case .getdata(let ids): await sendTopicMessage(.getdata(ids.map(\.inventoryID)), to: peer)
        case .object(let bytes): await sendTopicMessage(.object(bytes), to: peer)
        }
    }

    /// The established links (address-fetch links excluded).
    public func connectedPeers() async -> [PeerID] { peers().map(\.id) }

    /// Routes every `inv` and `getdata` from an established peer to `handler`.
    public func setRepairHandler(_ handler: @escaping @Sendable (RepairMessage, PeerID) async -> Void) async {
        setInventoryHandler { message, peer in
            switch message {
            case .inv(let ids): await handler(.inv(ids.map(MessageID.init(inventoryID:))), peer)
            case .getdata(let ids): await handler(.getdata(ids.map(MessageID.init(inventoryID:))), peer)
            default: break
            }
        }
    }

    /// Closes the link with `bye(invalidObject)` and discourages the peer (spec/node.md).
    public func penalizeInvalidObject(from peer: PeerID, reason: String) async {
        await penalize(peer, code: .invalidObject, reason: reason)
    }
}

extension PubSub where Network == Node {
    /// A topic layer on `node`, wired in: the node hands it every `object`, `inv` and `getdata`
    /// message, a new link flushes the publishes held while no peer was connected and gets a
    /// catch-up `inv`, and the repair heartbeat runs.
    ///
    /// This installs the node's object, inventory and peer handlers (each node has one of each).
    /// A caller that needs peer events too should install its own peer handler and call
    /// `peerConnected(_:)` and `peerDisconnected(_:)` from it.
    public static func attached(
        to node: Node, configuration: PubSubConfiguration = PubSubConfiguration(),
        logger: Logger = Logger(label: "nymbus.pubsub")
    ) async throws(PubSubError) -> PubSub<Node> {
        let pubsub = try PubSub(network: node, configuration: configuration, logger: logger)
        await node.setObjectHandler { [weak pubsub] bytes, peer in
            await pubsub?.handleIncoming(object: bytes, from: peer)
        }
        await node.setPeerHandler { [weak pubsub] event in
            switch event {
            case .connected(let info):
                await pubsub?.peerConnected(info.id)
                await pubsub?.syncAfterLinking(info.id)
            case .disconnected(let peer, _):
                await pubsub?.peerDisconnected(peer)
                await pubsub?.syncPeerGone(peer)
            }
        }
        await pubsub.start()
        await pubsub.startSync()
        return pubsub
    }
}

extension MessageID {
    /// The id as the wire's `inv`/`getdata` entry.
    var inventoryID: InventoryID {
        // 32 bytes always make an inventory id.
        InventoryID(bytes: bytes)!
    }

    /// The id an `inv`/`getdata` entry names.
    init(inventoryID: InventoryID) {
        // 32 bytes always make a message id.
        self = MessageID(bytes: inventoryID.bytes)!
    }
}
