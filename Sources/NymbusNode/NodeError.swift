public import NymbusCrypto

/// The codes of ``NodeError``.
extension ErrorCode<NodeError> {
    /// `start()` has not been called (or failed).
    public static let notStarted = Self("notStarted")
    /// The node is stopping or stopped.
    public static let stopped = Self("stopped")
    /// The nym-client transport failed (not connected, queue full, ...).
    public static let transport = Self("transport")
    /// The peer did not complete the handshake in time.
    public static let handshakeTimeout = Self("handshakeTimeout")
    /// The peer said `bye` during the handshake.
    public static let refused = Self("refused")
    /// The peer accepts no inbound links (it is a hidden node).
    public static let noInbound = Self("noInbound")
    /// The address dialed is this node itself (detected by the version nonce).
    public static let selfConnection = Self("selfConnection")
    /// The peer speaks a protocol version this node does not.
    public static let incompatibleVersion = Self("incompatibleVersion")
    /// The address is discouraged after misbehaving.
    public static let discouraged = Self("discouraged")
    /// No established link has this `PeerID`.
    public static let unknownPeer = Self("unknownPeer")
    /// The node has no room for another link.
    public static let tooManyPeers = Self("tooManyPeers")
    /// The address book file exists but cannot be read back; it was kept aside, not replaced.
    public static let corruptAddressBook = Self("corruptAddressBook")
    /// The discouragement list file exists but cannot be read back; it was kept aside, not replaced.
    public static let corruptDiscouragementList = Self("corruptDiscouragementList")
    /// The data directory or a file in it could not be written.
    public static let persistence = Self("persistence")
    /// A custom object type is not registered or does not encode.
    public static let invalidObject = Self("invalidObject")
    /// A message is larger than the wire limits allow.
    public static let oversized = Self("oversized")
    /// The link closed for another reason (the peer misbehaved, timed out, ...).
    public static let disconnected = Self("disconnected")
    /// A `NodeConfiguration` field is out of its range (the reason names it and the range).
    public static let invalidConfiguration = Self("invalidConfiguration")
}

/// Why a node operation failed: dialing a peer, loading the address book, sending to a peer.
///
/// Equality compares only the `code`, so tests match on the kind of failure; the `reason`
/// says what happened and what to do about it.
public struct NodeError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
