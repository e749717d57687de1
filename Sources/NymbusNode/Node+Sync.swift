import NymbusWire
import NymbusTransport

/// What the topic layer's catch-up (spec/pubsub.md §16) asks of the node: the cost of an answer
/// and room on a link. Its messages reach it through the one topic-message hook
/// (`setTopicMessageHandler`), like every topic-layer message.
extension Node {
    /// Whether the link to `peer` has room for a catch-up answer without crowding live objects:
    /// its waiting object packets are below half the link's bound. Catch-up answers are served
    /// only then, so live traffic keeps the other half (spec/pubsub.md §16).
    /// Reply SURBs a peer spends answering this node with a message of `payloadBytes` of payload:
    /// 0 unless this node is hidden (then every answer travels in its SURBs).
    public func replySURBs(forPayload payloadBytes: Int) -> Int {
        guard configuration.mode == .hidden else { return 0 }
        return NymPacketSizes.replyPackets(dataCount: Envelope.headerLength + payloadBytes)
    }

    public func hasSyncRoom(for peer: PeerID) -> Bool {
        guard sessions[peer.sessionID]?.isEstablished == true else { return false }
        return (outboxes[peer.sessionID]?.objectPackets ?? 0) * 2 < configuration.linkQueueLimitPackets
    }
}
