public import NymbusCrypto
public import NymbusWire

/// Which side opened a link.
public enum PeerDirection: String, Sendable, Hashable {
    /// The peer dialed us.
    case inbound
    /// We dialed the peer.
    case outbound
}

/// How a link travels.
public enum PeerMode: String, Sendable, Hashable {
    /// Both sides know the other's address; plain `send` both ways.
    case visible
    /// The initiator is hidden: it sends with `sendAnonymous` and is answered by SURB `reply`.
    case hidden
}

/// What the node knows about one established link.
public struct PeerInfo: Sendable, Hashable {
    /// The link's handle.
    public var id: PeerID
    /// Who opened it.
    public var direction: PeerDirection
    /// Visible, or hidden (the initiator gave no address).
    public var mode: PeerMode
    /// The peer's Nym address, only once proven (we dialed it, or it echoed our verack nonce).
    public var address: Recipient?
    /// Services from the peer's `version`.
    public var services: Services
    /// The peer's user agent.
    public var userAgent: String
    /// The protocol version in use (the lower of both sides').
    public var protocolVersion: UInt16
    /// The last ping round trip, if one completed.
    public var rtt: Duration?
    /// When the handshake completed.
    public var connectedSince: ContinuousClock.Instant
}

/// A change in the set of established links.
public enum PeerEvent: Sendable, Hashable {
    /// A handshake completed.
    case connected(PeerInfo)
    /// An established link closed, with the reason (ours or the peer's).
    case disconnected(PeerID, ReasonCode)
}
