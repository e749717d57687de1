/// Why bytes could not be decoded as an overlay message.
///
/// Equality compares only the `code`, so tests match on the kind of failure; the `reason` names
/// the field and the numbers involved for logs and for peers' `reject` messages.
public struct WireError: Error, Hashable, CustomStringConvertible {
    /// The kind of decoding failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case truncated, lengthOverLimit, trailingBytes, badMagic, unsupportedVersion, unknownCommand
            case invalidValue, invalidUTF8, unknownObjectType
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input ended before a field was complete.
        public static let truncated = Code(.truncated)
        /// A declared length or count is larger than its limit.
        public static let lengthOverLimit = Code(.lengthOverLimit)
        /// Bytes remained after the last field.
        public static let trailingBytes = Code(.trailingBytes)
        /// The envelope does not start with the Nymbus magic.
        public static let badMagic = Code(.badMagic)
        /// The envelope's protocol version is one this build does not speak.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// The command byte names no known message.
        public static let unknownCommand = Code(.unknownCommand)
        /// A field holds a value outside its allowed set.
        public static let invalidValue = Code(.invalidValue)
        /// A text field is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A custom object names a type no handler is registered for.
        public static let unknownObjectType = Code(.unknownObjectType)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String
    public let location: String

    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: WireError, rhs: WireError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "WireError.\(code): \(reason)" }
}
