public import NymbusWire

/// A local handle for one link to a peer.
///
/// It wraps the link's session id, so two links to the same peer (one each way) are two
/// `PeerID`s. Its description is a short prefix of the session id: enough to tell links apart
/// in logs, not enough to speak on the link.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    /// The session id of the link.
    public let sessionID: SessionID

    /// Wraps a session id.
    public init(_ sessionID: SessionID) { self.sessionID = sessionID }

    public var description: String { "peer-\(sessionID)" }
}
