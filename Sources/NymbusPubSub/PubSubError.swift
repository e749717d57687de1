public import NymbusCrypto

/// The codes of ``PubSubError``.
extension ErrorCode<PubSubError> {
    /// A publish's payload is larger than the configured maximum.
    public static let payloadTooLarge = Self("payloadTooLarge")
    /// No peer is connected and the bounded queue for early publishes is full.
    /// The file of held publishes cannot be read, written or decoded.
    public static let persistence = Self("persistence")
    public static let queueFull = Self("queueFull")
    /// A `WireCodable` value was published whose type was never registered.
    public static let unregisteredType = Self("unregisteredType")
    /// A different type is already registered under the same `wireTypeID`.
    public static let typeAlreadyRegistered = Self("typeAlreadyRegistered")
    /// The type id is reserved for Nymbus (below 0x1000).
    public static let reservedType = Self("reservedType")
    /// An invite string is malformed, has a bad checksum or an unknown version.
    public static let invalidInvite = Self("invalidInvite")
    /// A `PubSubConfiguration` breaks one of its documented rules.
    public static let invalidConfiguration = Self("invalidConfiguration")
    /// Object bytes do not follow the object format (spec/pubsub.md).
    public static let malformedObject = Self("malformedObject")
    /// The object's version byte is one this build does not speak.
    public static let unsupportedVersion = Self("unsupportedVersion")
    /// The membership signature does not verify under the topic id.
    public static let badSignature = Self("badSignature")
    /// The ciphertext does not open with the topic key, or its plaintext is malformed.
    public static let decryptionFailed = Self("decryptionFailed")
    /// The plaintext carries an author signature that does not verify.
    public static let badAuthorSignature = Self("badAuthorSignature")
    /// A delivery was decoded as a type whose `wireTypeID` differs from its object type.
    public static let typeMismatch = Self("typeMismatch")
    /// A batch object was asked for with fewer than 2 or more than 65 535 entries.
    public static let invalidBatch = Self("invalidBatch")
    /// libsodium failed where it should not (no input can cause this).
    public static let cryptoFailure = Self("cryptoFailure")
}

/// The one error type of `NymbusPubSub`.
///
/// Equality compares only the `code`, so tests match on what went wrong while logs keep the
/// human-readable `reason` and the place it was raised. Reasons never contain topic secrets.
public struct PubSubError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
