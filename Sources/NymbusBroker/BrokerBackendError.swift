public import NymbusCrypto

/// The codes of ``BrokerBackendError``.
extension ErrorCode<BrokerBackendError> {
    /// An argument is malformed: a bad invite string, an invalid topic name, wrong count.
    public static let invalidArgument = Self("invalidArgument")
    /// The payload is larger than the overlay accepts.
    public static let payloadTooLarge = Self("payloadTooLarge")
    /// The channel is a private topic this node has not joined.
    public static let notJoined = Self("notJoined")
    /// No such `NYMBUS.*` command.
    public static let unknownCommand = Self("unknownCommand")
    /// The overlay cannot take the request now (not connected to the mixnet, shutting down).
    public static let unavailable = Self("unavailable")
    /// Too many publishes; try again later.
    public static let rateLimited = Self("rateLimited")
    /// Anything else.
    public static let failed = Self("failed")
}

/// A refusal from a ``BrokerBackend``, shown to the client as `-ERR <reason>`.
///
/// The `reason` is user-facing: say what is wrong and what to do (`topic is private and not
/// joined: run NYMBUS.JOIN <invite> first`). CR and LF in it are sent as spaces. Equality compares
/// only the `code`.
public struct BrokerBackendError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }

    /// The error reply the client gets: `-ERR <reason>`.
    public var reply: RESPValue { .err(reason) }
}
