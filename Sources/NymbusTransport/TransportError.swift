public import NymbusCrypto

/// The codes of ``TransportError``.
extension ErrorCode<TransportError> {
    /// Not connected to the mixnet client right now (it may come back).
    public static let notConnected = Self("notConnected")
    /// The client's send queue is full: try again once it drains.
    public static let queueFull = Self("queueFull")
    /// The transport was closed; nothing more can be sent on it.
    public static let closed = Self("closed")
    /// A message is larger than the client accepts.
    public static let messageTooLarge = Self("messageTooLarge")
    /// The client did not answer in time.
    public static let timeout = Self("timeout")
    /// A sender tag does not have 16 bytes, or is not base58.
    public static let invalidSenderTag = Self("invalidSenderTag")
    /// Any other failure of the client; the reason says which.
    public static let failed = Self("failed")
}

/// Why a ``MixnetTransport`` could not do what was asked: the transport's own error, so a node
/// depends on this small module, not on a particular client (NymClient's WebSocket connection
/// maps its errors here).
public struct TransportError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
