/// The one error type of `NymbusPubSub`.
///
/// Equality compares only the `code`, so tests match on what went wrong while logs keep the
/// human-readable `reason` and the place it was raised. Reasons never contain topic secrets.
public struct PubSubError: Error, Hashable, CustomStringConvertible {
    /// What went wrong, as a value that can grow without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case payloadTooLarge, queueFull, unregisteredType, typeAlreadyRegistered, reservedType
            case invalidInvite, invalidConfiguration, malformedObject, unsupportedVersion
            case badSignature, decryptionFailed, badAuthorSignature, typeMismatch, cryptoFailure
            case invalidBatch, persistence
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A publish's payload is larger than the configured maximum.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// No peer is connected and the bounded queue for early publishes is full.
        /// The file of held publishes cannot be read, written or decoded.
        public static let persistence = Code(.persistence)
        public static let queueFull = Code(.queueFull)
        /// A `WireCodable` value was published whose type was never registered.
        public static let unregisteredType = Code(.unregisteredType)
        /// A different type is already registered under the same `wireTypeID`.
        public static let typeAlreadyRegistered = Code(.typeAlreadyRegistered)
        /// The type id is reserved for Nymbus (below 0x1000).
        public static let reservedType = Code(.reservedType)
        /// An invite string is malformed, has a bad checksum or an unknown version.
        public static let invalidInvite = Code(.invalidInvite)
        /// A `PubSubConfiguration` breaks one of its documented rules.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Object bytes do not follow the object format (spec/pubsub.md).
        public static let malformedObject = Code(.malformedObject)
        /// The object's version byte is one this build does not speak.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// The membership signature does not verify under the topic id.
        public static let badSignature = Code(.badSignature)
        /// The ciphertext does not open with the topic key, or its plaintext is malformed.
        public static let decryptionFailed = Code(.decryptionFailed)
        /// The plaintext carries an author signature that does not verify.
        public static let badAuthorSignature = Code(.badAuthorSignature)
        /// A delivery was decoded as a type whose `wireTypeID` differs from its object type.
        public static let typeMismatch = Code(.typeMismatch)
        /// A batch object was asked for with fewer than 2 or more than 65 535 entries.
        public static let invalidBatch = Code(.invalidBatch)
        /// libsodium failed where it should not (no input can cause this).
        public static let cryptoFailure = Code(.cryptoFailure)

        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// A readable explanation for logs.
    public let reason: String
    /// Where it was raised (`file:line`).
    public let location: String

    init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: PubSubError, rhs: PubSubError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "PubSubError.\(code): \(reason)" }
}
