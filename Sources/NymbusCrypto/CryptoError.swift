/// The one error type of `NymbusCrypto`.
/// The codes of ``CryptoError``.
extension ErrorCode<CryptoError> {
    /// libsodium could not be initialised.
    public static let libraryUnavailable = Self("libraryUnavailable")
    /// A key had the wrong number of bytes.
    public static let invalidKeyLength = Self("invalidKeyLength")
    /// A nonce had the wrong number of bytes.
    public static let invalidNonceLength = Self("invalidNonceLength")
    /// An input or requested output length was out of range.
    public static let invalidLength = Self("invalidLength")
    /// A ciphertext did not authenticate: wrong key, wrong data, or tampering.
    public static let authenticationFailed = Self("authenticationFailed")
    /// A signature did not verify.
    public static let invalidSignature = Self("invalidSignature")
    /// A string was not valid base58 (Bitcoin alphabet).
    public static let invalidBase58 = Self("invalidBase58")
    /// Bytes are not a valid Ed25519 public point.
    public static let invalidPoint = Self("invalidPoint")
    /// libsodium reported a failure that has no more specific code.
    public static let operationFailed = Self("operationFailed")
}

///
/// Equality compares only the `code`, so tests can match on what went wrong while logs keep the
/// human-readable `reason` and the place it was raised.
public struct CryptoError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
