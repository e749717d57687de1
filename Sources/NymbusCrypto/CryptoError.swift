/// The one error type of `NymbusCrypto`.
///
/// Equality compares only the `code`, so tests can match on what went wrong while logs keep the
/// human-readable `reason` and the place it was raised.
public struct CryptoError: Error, Hashable, CustomStringConvertible {
    /// What went wrong, as a value that can grow without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case libraryUnavailable, invalidKeyLength, invalidNonceLength, invalidLength
            case authenticationFailed, invalidSignature, invalidBase58, invalidPoint, operationFailed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// libsodium could not be initialised.
        public static let libraryUnavailable = Code(.libraryUnavailable)
        /// A key had the wrong number of bytes.
        public static let invalidKeyLength = Code(.invalidKeyLength)
        /// A nonce had the wrong number of bytes.
        public static let invalidNonceLength = Code(.invalidNonceLength)
        /// An input or requested output length was out of range.
        public static let invalidLength = Code(.invalidLength)
        /// A ciphertext did not authenticate: wrong key, wrong data, or tampering.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// A signature did not verify.
        public static let invalidSignature = Code(.invalidSignature)
        /// A string was not valid base58 (Bitcoin alphabet).
        public static let invalidBase58 = Code(.invalidBase58)
        /// Bytes are not a valid Ed25519 public point.
        public static let invalidPoint = Code(.invalidPoint)
        /// libsodium reported a failure that has no more specific code.
        public static let operationFailed = Code(.operationFailed)

        public var description: String { String(describing: base) }
    }

    public let code: Code
    public let reason: String
    public let location: String

    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "CryptoError.\(code): \(reason)" }
}
