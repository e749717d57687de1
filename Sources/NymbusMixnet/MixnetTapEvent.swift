import NymClient
public import NymbusCrypto
public import NymbusTransport

/// One message entering the simulated mixnet, as an all-seeing observer would record it.
///
/// The tap sees what no real observer could (the true destination of a reply, for instance), so
/// tests can check privacy claims: e.g. that no byte a hidden node hands to the mixnet contains
/// its own address. Events are emitted when a message is sent into the mixnet (replies when their
/// last fragment gets a SURB), whether or not it is later lost.
public struct MixnetTapEvent: Sendable, Equatable {
    /// Which nym-client operation (or automatic SURB traffic) produced the message.
    public enum Kind: String, Sendable, Equatable {
        /// A plain `send`.
        case send
        /// A `sendAnonymous`: carries a sender tag and `surbCount` SURBs.
        case sendAnonymous
        /// A `reply` travelling on SURBs; `surbCount` is the SURBs it used.
        case reply
        /// The holder of a SURB book asking the original sender for `surbCount` more (uses one SURB).
        case surbRequest
        /// The original sender answering a request with `surbCount` more SURBs.
        case surbTopUp
    }

    /// The kind of message.
    public let kind: Kind
    /// Index of the endpoint that sent it.
    public let from: Int
    /// Address of the endpoint that sent it.
    public let fromAddress: Recipient
    /// Index of the endpoint it goes to, `nil` if no endpoint of this mixnet has that address.
    public let to: Int?
    /// Address it goes to: the addressed recipient, or for replies and SURB requests the original
    /// sender the SURBs lead back to (which the replier never learns).
    public let toAddress: Recipient
    /// The sender tag involved (`sendAnonymous`, `reply`, `surbRequest`, `surbTopUp`), else `nil`.
    public let senderTag: SenderTag?
    /// The application payload. Empty for `surbRequest` and `surbTopUp`, which carry no app data.
    public let bytes: [UInt8]
    /// SURBs carried (`sendAnonymous`, `surbTopUp`), used (`reply`) or requested (`surbRequest`).
    public let surbCount: Int

    /// Creates an event (the mixnet creates them; public for tests that build expectations).
    public init(
        kind: Kind, from: Int, fromAddress: Recipient, to: Int?, toAddress: Recipient, senderTag: SenderTag?,
        bytes: [UInt8], surbCount: Int
    ) {
        self.kind = kind
        self.from = from
        self.fromAddress = fromAddress
        self.to = to
        self.toAddress = toAddress
        self.senderTag = senderTag
        self.bytes = bytes
        self.surbCount = surbCount
    }
}
