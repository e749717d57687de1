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
    func selfAddress() async throws(TransportError) -> Recipient
    /// Plain `send`: the recipient learns nothing about the sender.
    func send(_ message: [UInt8], to recipient: Recipient) async throws(TransportError)
    /// `sendAnonymous`: delivered with a sender tag, carrying `replySurbs` reply blocks.
    func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32) async throws(TransportError)
    /// `reply`: answers an anonymous sender through the SURBs it sent.
    func reply(_ message: [UInt8], to tag: SenderTag) async throws(TransportError)
    /// Messages as they arrive, in arrival order (the mixnet itself keeps no order).
    var inbound: AsyncStream<ReceivedMessage> { get }
    /// When the messages handed to `inbound` arrived, until the reader says it handled each
    /// (`InboundBacklog.handled()`); nil if the transport does not keep it, and then the reader
    /// is taken to be never behind.
    var inboundBacklog: InboundBacklog? { get }

    // MARK: Lanes (nym-client's connection ids, NYM-CLIENT.md §5.3)

    /// Whether `laneReports` carries nym-client's `LaneQueueLength` answers. A transport that
    /// cannot report lanes is used unpaced: the node then sends as soon as it has something.
    var reportsLaneQueueLengths: Bool { get }
    /// `send` on lane `lane` (nil: nym-client's general lane). With a lane, nym-client answers
    /// with the lane's queue length on `laneReports`.
    func send(_ message: [UInt8], to recipient: Recipient, lane: UInt64?) async throws(TransportError)
    /// `sendAnonymous` on lane `lane`; answered like `send(_:to:lane:)`.
    func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32, lane: UInt64?)
        async throws(TransportError)
    /// `reply` on lane `lane`; answered like `send(_:to:lane:)`.
    func reply(_ message: [UInt8], to tag: SenderTag, lane: UInt64?) async throws(TransportError)
    /// `GetLaneQueueLength`: asks how many packets wait in `lane`; the answer comes on `laneReports`.
    func requestLaneQueueLength(_ lane: UInt64) async throws(TransportError)
    /// `ClosedConnection`: nym-client drops the packets of `lane` it has not sent yet.
    func closeLane(_ lane: UInt64) async
    /// nym-client's `LaneQueueLength` answers, in the order they arrive.
    var laneReports: AsyncStream<LaneReport> { get }
}

/// One `LaneQueueLength` answer: `length` packets wait in lane `lane` of nym-client's send queue.
public struct LaneReport: Sendable, Equatable {
    public var lane: UInt64
    public var length: Int

    public init(lane: UInt64, length: Int) {
        self.lane = lane
        self.length = length
    }
}

extension MixnetTransport {
    /// No record of arrivals: the reader is taken to be never behind.
    public var inboundBacklog: InboundBacklog? { nil }

    /// No lane reports unless the transport says so.
    public var reportsLaneQueueLengths: Bool { false }

    public func send(_ message: [UInt8], to recipient: Recipient, lane: UInt64?) async throws(TransportError) {
        try await send(message, to: recipient)
    }

    public func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32, lane: UInt64?)
        async throws(TransportError)
    {
        try await sendAnonymous(message, to: recipient, replySurbs: replySurbs)
    }

    public func reply(_ message: [UInt8], to tag: SenderTag, lane: UInt64?) async throws(TransportError) {
        try await reply(message, to: tag)
    }

    public func requestLaneQueueLength(_ lane: UInt64) async throws(TransportError) {}

    public func closeLane(_ lane: UInt64) async {}

    public var laneReports: AsyncStream<LaneReport> { AsyncStream { $0.finish() } }
}
