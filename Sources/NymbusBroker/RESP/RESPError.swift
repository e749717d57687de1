public import NymbusCrypto

/// The codes of ``RESPError``.
extension ErrorCode<RESPError> {
    /// `*n` is not an integer or is over ``RESPLimits/maxArrayCount``.
    public static let invalidMultibulkLength = Self("invalidMultibulkLength")
    /// `$n` is not an integer, is negative in a request, or is over ``RESPLimits/maxBulkLength``.
    public static let invalidBulkLength = Self("invalidBulkLength")
    /// A request array element does not start with `$`.
    public static let expectedDollar = Self("expectedDollar")
    /// A line or bulk string is not followed by CR LF.
    public static let expectedCRLF = Self("expectedCRLF")
    /// A `*n` or `$n` header line is longer than ``RESPLimits/maxInlineLength``.
    public static let headerTooLong = Self("headerTooLong")
    /// An inline command line is longer than ``RESPLimits/maxInlineLength``.
    public static let inlineTooLong = Self("inlineTooLong")
    /// An inline command has an unterminated quote, or a closing quote not followed by space.
    public static let unbalancedQuotes = Self("unbalancedQuotes")
    /// An inline command has more than ``RESPLimits/maxArrayCount`` arguments.
    public static let tooManyArguments = Self("tooManyArguments")
    /// The bulk strings of one request add up to more than ``RESPLimits/maxRequestBytes``.
    public static let requestTooLarge = Self("requestTooLarge")
    /// A reply starts with a byte that is no RESP type (reply parser only).
    public static let invalidType = Self("invalidType")
    /// An integer, double or boolean line does not parse (reply parser only).
    public static let invalidInteger = Self("invalidInteger")
    /// Aggregates nest deeper than the parser allows (reply parser only).
    public static let nestingTooDeep = Self("nestingTooDeep")
}

/// Why bytes from a client could not be parsed as RESP.
///
/// Every case is a protocol error: the broker replies `-ERR Protocol error: <reason>` and closes
/// the connection, as Redis does. `reason` is the exact text after `Protocol error: ` and matches
/// Redis's wording where Redis has one. Equality compares only the `code`.
public struct RESPError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }

    /// The full text of the error reply the broker sends: `ERR Protocol error: <reason>`.
    public var replyText: String { "ERR Protocol error: " + reason }
}
