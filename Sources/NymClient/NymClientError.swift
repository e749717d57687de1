public import NymbusCrypto
public import NymbusTransport

/// The codes of ``NymClientError``.
extension ErrorCode<NymClientError> {
    /// Request bytes or JSON that do not follow the nym-client API.
    public static let malformedRequest = Self("malformedRequest")
    /// Response bytes or JSON that do not follow the nym-client API.
    public static let malformedResponse = Self("malformedResponse")
    /// A Nym address that does not parse or validate.
    public static let invalidAddress = Self("invalidAddress")
    /// A sender tag that is not 16 bytes.
    public static let invalidSenderTag = Self("invalidSenderTag")
    /// No WebSocket to the nym-client right now.
    public static let notConnected = Self("notConnected")
    /// The WebSocket could not be opened.
    public static let connectionFailed = Self("connectionFailed")
    /// The bounded outbound queue is full; slow down or retry later.
    public static let queueFull = Self("queueFull")
    /// The connection was closed on purpose and takes no more messages.
    public static let closed = Self("closed")
    /// nym-client answered with an `error` response.
    public static let serverError = Self("serverError")
    /// nym-client did not answer in time.
    public static let timeout = Self("timeout")
    /// A `NymClientConfiguration` field is out of its range (the reason names it and the range).
    public static let invalidConfiguration = Self("invalidConfiguration")
}

/// Errors from the nym-client boundary: codecs, the connection, and the send queue.
///
/// Equality compares only the `code`; the `reason` says what to do about it.
public struct NymClientError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}

extension NymClientError {
    /// This error as the transport seam reports it to a node (same reason and location).
    public var transportError: TransportError {
        let code: TransportError.Code =
            switch self.code {
            case .notConnected, .connectionFailed: .notConnected
            case .queueFull: .queueFull
            case .closed: .closed
            case .malformedRequest: .messageTooLarge
            case .timeout: .timeout
            case .invalidSenderTag: .invalidSenderTag
            default: .failed
            }
        return TransportError(details: ErrorDetails(code: code, reason: reason, location: location))
    }
}
