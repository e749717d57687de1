public import Logging
public import NymbusNode
import NymbusTransport
import NymbusWire

/// The node is the topic layer's network: every topic message travels as the overlay message
/// of the same name (`object`, `inv`, `getdata`, `prune`, `graft`).
extension Node: ObjectNetwork {
    public typealias Peer = PeerID

    /// Sends a topic message to established peers; returns those whose link took it.
    public func send(_ message: TopicMessage, to peers: [PeerID]) async -> [PeerID] {
        await sendTopicMessage(message.wireMessage, toEach: peers)
    }

    /// Sends an object a peer asked for to catch up: after every live object on its link.
    public func sendCatchUp(_ message: TopicMessage, to peer: PeerID) async -> Bool {
        await sendTopicMessage(message.wireMessage, to: peer, catchUp: true)
    }

    /// Sends a topic message to every established peer not in `excluded`, in one call.
    public func send(_ message: TopicMessage, toAllExcept excluded: Set<PeerID>) async -> [PeerID] {
        await sendTopicMessage(message.wireMessage, toEach: peers().map(\.id).filter { !excluded.contains($0) })
    }

    /// The established links (address-fetch links excluded).
    public func connectedPeers() async -> [PeerID] { peers().map(\.id) }

    /// The established links this node opened.
    public func dialedPeers() async -> Set<PeerID> { dialedPeerLinks }

    /// The established links whose peer is hidden: it dialed this node without an address.
    public func hiddenPeers() async -> Set<PeerID> {
        guard mode == .visible else { return [] }
        return hiddenPeerLinks
    }

    /// Whether this node runs in maximum anonymity (no address, every link over SURBs).
    public func isHidden() async -> Bool { mode == .hidden }

    /// How long ago the oldest message from nym-client this node has not finished handling
    /// arrived (`Node.inboundBacklog`).
    public nonisolated func inboundBacklogAge() async -> Duration? {
        inboundBacklog?.oldestArrival.map { .now - $0 }
    }

    /// Routes every topic-layer message from an established peer to `handler`.
    public func setMessageHandler(_ handler: @escaping @Sendable (TopicMessage, PeerID) async -> Void) async {
        setTopicMessageHandler { message, peer in
            guard let message = TopicMessage(wireMessage: message) else { return }
            await handler(message, peer)
        }
    }

    /// Closes the link with `bye(invalidObject)` and discourages the peer (spec/node.md).
    public func penalizeInvalidObject(from peer: PeerID, reason: String) async {
        await penalize(peer, code: .invalidObject, reason: reason)
    }
}

extension TopicMessage {
    /// The overlay message that carries it.
    var wireMessage: Message {
        switch self {
        case .object(let bytes): .object(bytes)
        case .inv(let ids): .inv(ids.map(\.inventoryID))
        case .getdata(let ids): .getdata(ids.map(\.inventoryID))
        case .prune(let stripes): .prune(stripes)
        case .graft(let stripes, let ids): .graft(stripes, ids.map(\.inventoryID))
        }
    }

    /// The topic message an overlay message carries, or nil for a link-layer message or a
    /// catch-up message (those reach the topic layer through `SyncNetwork`).
    init?(wireMessage: Message) {
        switch wireMessage {
        case .object(let bytes): self = .object(bytes)
        case .inv(let ids): self = .inv(ids.map(MessageID.init(inventoryID:)))
        case .getdata(let ids): self = .getdata(ids.map(MessageID.init(inventoryID:)))
        case .prune(let stripes): self = .prune(stripes)
        case .graft(let stripes, let ids): self = .graft(stripes, ids.map(MessageID.init(inventoryID:)))
        case .syncRanges, .syncGet, .syncObject: return nil
        case .version, .verack, .ping, .pong, .getaddr, .addr, .reject, .bye, .custom: return nil
        }
    }
}

extension PubSub where Network == Node {
    /// A topic layer on `node`, wired in (``attach(then:)``).
    public static func attached(
        to node: Node, configuration: PubSubConfiguration = PubSubConfiguration(),
        logger: Logger = Logger(label: "nymbus.pubsub")
    ) async throws(PubSubError) -> PubSub<Node> {
        let pubsub = try PubSub(network: node, configuration: configuration, logger: logger)
        await pubsub.attach()
        return pubsub
    }

    /// Wires this topic layer into its node, the one place that does: the node hands it every
    /// topic message, a new link flushes the publishes held while no peer was connected, gets a
    /// catch-up `inv` and starts its sync, a closed link frees its requests and sync state, and
    /// the repair heartbeat and sync timers run. Call before `node.start()`, and after
    /// `useArchive(_:)` if there is one.
    ///
    /// This installs the node's topic-message and peer handlers (each node has one of each);
    /// `then` runs after the topic layer has handled each peer event, for an owner that needs
    /// the events too (the daemon tells its broker whether any peer is linked).
    public func attach(then: (@Sendable (PeerEvent) async -> Void)? = nil) async {
        await network.setPeerHandler { [weak self] event in
            switch event {
            case .connected(let info):
                await self?.peerConnected(info.id)
                await self?.syncAfterLinking(info.id)
            case .disconnected(let peer, _):
                await self?.peerDisconnected(peer)
                await self?.syncPeerGone(peer)
            }
            await then?(event)
        }
        await start()
        await startSync()
    }
}

extension MessageID {
    /// The id as the wire's `inv`/`getdata`/`graft` entry.
    var inventoryID: InventoryID {
        // 32 bytes always make an inventory id.
        InventoryID(bytes: bytes)!
    }

    /// The id an `inv`/`getdata`/`graft` entry names.
    init(inventoryID: InventoryID) {
        // 32 bytes always make a message id.
        self = MessageID(bytes: inventoryID.bytes)!
    }
}
