public import NymbusNode
public import NymbusWire

/// What catch-up sync needs from the peer layer on top of `ObjectNetwork`: send a sync message
/// to one peer, receive every topic-layer message as the overlay carries it (so the topic layer
/// tells catch-up from dissemination itself), know whether a link has room for an answer, and
/// what an answer costs in reply SURBs.
public protocol SyncNetwork: ObjectNetwork {
    /// Sends `syncrange`, `syncget` or `syncobject` to `peer`; whether the link took it.
    func sendSync(_ message: Message, to peer: Peer) async -> Bool
    /// Installs the one handler for every topic-layer message from peers (`Command.isTopicLayer`:
    /// dissemination and catch-up alike); it replaces `setMessageHandler(_:)`'s.
    func setTopicMessageHandler(_ handler: @escaping @Sendable (Message, Peer) async -> Void) async
    /// Whether the link to `peer` has room for a catch-up answer without crowding live objects.
    func hasSyncRoom(for peer: Peer) async -> Bool
    /// Reply SURBs a peer spends answering this node with `payloadBytes` of payload: 0 unless
    /// this node is hidden (answers to a hidden node travel only in its SURBs).
    func replySURBs(forPayload payloadBytes: Int) async -> Int
}

extension Node: SyncNetwork {
    /// Sends a sync message to one established peer (the node's topic-message path).
    public func sendSync(_ message: Message, to peer: PeerID) async -> Bool {
        await sendTopicMessage(message, to: peer)
    }
}
