/// Why bytes from a client could not be parsed as RESP.
///
/// Every case is a protocol error: the broker replies `-ERR Protocol error: <reason>` and closes
/// the connection, as Redis does. `reason` is the exact text after `Protocol error: ` and matches
/// Redis's wording where Redis has one. Equality compares only the `code`.
public struct RESPError: Error, Hashable, CustomStringConvertible {
    /// The kind of protocol error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidMultibulkLength, invalidBulkLength, expectedDollar, expectedCRLF
            case headerTooLong, inlineTooLong, unbalancedQuotes, tooManyArguments, requestTooLarge
            case invalidType, invalidInteger, nestingTooDeep
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `*n` is not an integer or is over ``RESPLimits/maxArrayCount``.
        public static let invalidMultibulkLength = Code(.invalidMultibulkLength)
        /// `$n` is not an integer, is negative in a request, or is over ``RESPLimits/maxBulkLength``.
        public static let invalidBulkLength = Code(.invalidBulkLength)
        /// A request array element does not start with `$`.
        public static let expectedDollar = Code(.expectedDollar)
        /// A line or bulk string is not followed by CR LF.
        public static let expectedCRLF = Code(.expectedCRLF)
        /// A `*n` or `$n` header line is longer than ``RESPLimits/maxInlineLength``.
        public static let headerTooLong = Code(.headerTooLong)
        /// An inline command line is longer than ``RESPLimits/maxInlineLength``.
        public static let inlineTooLong = Code(.inlineTooLong)
        /// An inline command has an unterminated quote, or a closing quote not followed by space.
        public static let unbalancedQuotes = Code(.unbalancedQuotes)
        /// An inline command has more than ``RESPLimits/maxArrayCount`` arguments.
        public static let tooManyArguments = Code(.tooManyArguments)
        /// The bulk strings of one request add up to more than ``RESPLimits/maxRequestBytes``.
        public static let requestTooLarge = Code(.requestTooLarge)
        /// A reply starts with a byte that is no RESP type (reply parser only).
        public static let invalidType = Code(.invalidType)
        /// An integer, double or boolean line does not parse (reply parser only).
        public static let invalidInteger = Code(.invalidInteger)
        /// Aggregates nest deeper than the parser allows (reply parser only).
        public static let nestingTooDeep = Code(.nestingTooDeep)

        public var description: String { base.rawValue }
    }

    /// The kind of error.
    public let code: Code
    /// The text after `Protocol error: `, e.g. `invalid bulk length`.
    public let reason: String
    /// Where the error was raised (`file:line`), for logs.
    public let location: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    /// The full text of the error reply the broker sends: `ERR Protocol error: <reason>`.
    public var replyText: String { "ERR Protocol error: " + reason }

    public static func == (lhs: RESPError, rhs: RESPError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "RESPError.\(code): \(reason)" }
}
