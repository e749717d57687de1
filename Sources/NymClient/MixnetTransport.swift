public import NymbusCrypto

/// One message delivered by nym-client: its bytes and, if it was sent with `sendAnonymous`,
/// the sender tag to reply to. Plain sends and replies arrive with no tag and no sender.
public struct ReceivedMessage: Sendable, Equatable {
    public var data: [UInt8]
    public var senderTag: SenderTag?

    public init(data: [UInt8], senderTag: SenderTag?) {
        self.data = data
        self.senderTag = senderTag
    }
}

/// Everything a Nymbus node needs from its nym-client: its own address, the three ways to send,
/// and the stream of what arrives.
///
/// The production conformer is the WebSocket connection to nym-client (real or the local
/// mixnet, which speak the same bytes); the node cannot tell them apart.
public protocol MixnetTransport: Sendable {
    /// This client's own Nym address (from nym-client's `selfAddress`).
    func selfAddress() async throws(NymClientError) -> Recipient
    /// Plain `send`: the recipient learns nothing about the sender.
    func send(_ message: [UInt8], to recipient: Recipient) async throws(NymClientError)
    /// `sendAnonymous`: delivered with a sender tag, carrying `replySurbs` reply blocks.
    func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32) async throws(NymClientError)
    /// `reply`: answers an anonymous sender through the SURBs it sent.
    func reply(_ message: [UInt8], to tag: SenderTag) async throws(NymClientError)
    /// Messages as they arrive, in arrival order (the mixnet itself keeps no order).
    var inbound: AsyncStream<ReceivedMessage> { get }
}
