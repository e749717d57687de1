public import NymbusWire

extension Node {
    /// Sets the handler for catch-up sync messages (`syncrange`, `syncget`, `syncobject`) from an
    /// established peer (the topic layer's catch-up, spec/pubsub.md §15).
    public func setSyncHandler(_ handler: @escaping @Sendable (_ message: Message, _ from: PeerID) async -> Void) {
        syncHandler = handler
    }

    /// Whether the link to `peer` has room for a catch-up answer without crowding live objects:
    /// its waiting object packets are below half the link's bound. Catch-up answers are served
    /// only then, so live traffic keeps the other half (spec/pubsub.md §15).
    public func hasSyncRoom(for peer: PeerID) -> Bool {
        guard sessions[peer.sessionID]?.isEstablished == true else { return false }
        return (outboxes[peer.sessionID]?.bulkPackets ?? 0) * 2 < configuration.linkQueueLimitPackets
    }
}
