/// Why nym-client would reject a request: exactly the error kind and message its server answers
/// with, so the local mixnet can reply byte-for-byte like the real client.
///
/// In binary the response carries `kind` and `message` separately; in text the message is
/// `"{kind.prefix}:{message}"` (see `ServerResponse.encodeText()`).
public struct NymClientRequestError: Error, Hashable, CustomStringConvertible {
    /// The error kind nym-client reports.
    public let kind: ErrorKind
    /// nym-client's message text, without the kind prefix.
    public let message: String

    /// Creates the error from a kind and nym-client's message text.
    public init(kind: ErrorKind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The `error` response nym-client sends for this failure.
    public var response: ServerResponse { .error(kind: kind, message: message) }

    /// The text-mode form, `"{prefix}:{message}"`.
    public var description: String { "\(kind.prefix):\(message)" }
}
