public import NymbusWire
import NymbusTransport

extension Node {
    /// Sets the handler for catch-up sync messages (`syncrange`, `syncget`, `syncobject`) from an
    /// established peer (the topic layer's catch-up, spec/pubsub.md §16).
    public func setSyncHandler(_ handler: @escaping @Sendable (_ message: Message, _ from: PeerID) async -> Void) {
        syncHandler = handler
    }

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
        return (outboxes[peer.sessionID]?.bulkPackets ?? 0) * 2 < configuration.linkQueueLimitPackets
    }
}
