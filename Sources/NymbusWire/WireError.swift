public import NymbusCrypto

/// The codes of ``WireError``.
extension ErrorCode<WireError> {
    /// The input ended before a field was complete.
    public static let truncated = Self("truncated")
    /// A declared length or count is larger than its limit.
    public static let lengthOverLimit = Self("lengthOverLimit")
    /// Bytes remained after the last field.
    public static let trailingBytes = Self("trailingBytes")
    /// The envelope does not start with the Nymbus magic.
    public static let badMagic = Self("badMagic")
    /// The envelope's protocol version is one this build does not speak.
    public static let unsupportedVersion = Self("unsupportedVersion")
    /// The command byte names no known message.
    public static let unknownCommand = Self("unknownCommand")
    /// A field holds a value outside its allowed set.
    public static let invalidValue = Self("invalidValue")
    /// A text field is not valid UTF-8.
    public static let invalidUTF8 = Self("invalidUTF8")
    /// A custom object names a type no handler is registered for.
    public static let unknownObjectType = Self("unknownObjectType")
}

/// Why bytes could not be decoded as an overlay message.
///
/// Equality compares only the `code`, so tests match on the kind of failure; the `reason` names
/// the field and the numbers involved for logs and for peers' `reject` messages.
public struct WireError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
